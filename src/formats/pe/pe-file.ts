import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type * as asn1js from 'asn1js';
import type { HashAlgorithm } from '../../authenticode/algorithms.js';
import { UserError } from '../../errors.js';
import { readRanges, type ByteRange } from '../../io/ranges.js';
import type { DigestOptions, FileFormat, IndirectData, SignableFile } from '../format.js';
import { buildCertificateTable, signatureFromCertificateTable } from './certificate-table.js';
import { PeChecksum } from './checksum.js';
import { looksLikePe, readPeLayout, type PeLayout } from './headers.js';
import { encodePeImageData, pageHashesOf, SPC_PE_IMAGE_DATA } from './image-data.js';
import { computePageHashes, decodePageHashes, encodePageHashes, pageHashAlgorithm } from './page-hashes.js';

class PeFile implements SignableFile {
  readonly format = 'PE';
  /** Signed data ends where the certificate table starts (or at the end of an unsigned file). */
  private readonly contentEnd: number;
  /** The certificate table starts 8-aligned: zero padding, hashed as part of the file. */
  private readonly padding: number;

  constructor(
    private readonly handle: FileHandle,
    private readonly layout: PeLayout,
    readonly signature: Buffer | undefined,
  ) {
    this.contentEnd = layout.certTable ? layout.certTable.offset : layout.fileSize;
    this.padding = (8 - (this.contentEnd % 8)) % 8;
  }

  /** The Authenticode image hash skips the CheckSum field and the Certificate Table entry. */
  private hashedRanges(): ByteRange[] {
    const { checksumOffset, certDirOffset } = this.layout;
    return [
      { start: 0, end: checksumOffset },
      { start: checksumOffset + 4, end: certDirOffset },
      { start: certDirOffset + 8, end: this.contentEnd },
    ];
  }

  async digest(hash: HashAlgorithm): Promise<Buffer> {
    const hasher = createHash(hash);
    await readRanges(this.handle, this.hashedRanges(), (chunk) => void hasher.update(chunk));
    return hasher.update(Buffer.alloc(this.padding)).digest();
  }

  async indirectData(hash: HashAlgorithm, options: DigestOptions = {}): Promise<IndirectData> {
    let pageHashes: Buffer | undefined;
    if (options.pageHashes) {
      const pageHash = pageHashAlgorithm(hash);
      pageHashes = encodePageHashes(await computePageHashes(this.handle, this.layout, pageHash), pageHash);
    }
    return {
      type: SPC_PE_IMAGE_DATA,
      value: encodePeImageData(pageHashes),
      hash,
      digest: await this.digest(hash),
    };
  }

  async checkIndirectData(type: string, value: asn1js.AsnType | undefined): Promise<string | undefined> {
    if (type !== SPC_PE_IMAGE_DATA) return `the signature is not for a PE image (content type ${type})`;
    const serialized = pageHashesOf(value);
    if (!serialized) return undefined;
    const pageHashes = decodePageHashes(serialized);
    if (!pageHashes) return 'the page hashes cannot be read';
    const actual = await computePageHashes(this.handle, this.layout, pageHashes.hash);
    return actual.equals(pageHashes.table) ? undefined : 'the page hashes do not match the file';
  }

  async writeSigned(output: FileHandle, signature: Buffer): Promise<void> {
    const { checksumOffset, certDirOffset } = this.layout;
    const table = buildCertificateTable(signature);
    const tableOffset = this.contentEnd + this.padding;
    if (tableOffset + table.length > 0xffffffff) throw new UserError('the signed file would exceed 4 GiB');
    const directoryEntry = Buffer.alloc(8);
    directoryEntry.writeUInt32LE(tableOffset, 0);
    directoryEntry.writeUInt32LE(table.length, 4);
    const patches = [
      { at: checksumOffset, bytes: Buffer.alloc(4) },
      { at: certDirOffset, bytes: directoryEntry },
    ];

    const checksum = new PeChecksum();
    const emit = async (chunk: Buffer, offset: number) => {
      checksum.update(chunk);
      await output.write(chunk, 0, chunk.length, offset);
    };
    await readRanges(this.handle, [{ start: 0, end: this.contentEnd }], (chunk, offset) => {
      for (const { at, bytes } of patches) {
        // Copy the part of the patch that falls inside this chunk.
        const from = Math.max(at, offset);
        const to = Math.min(at + bytes.length, offset + chunk.length);
        if (from < to) bytes.copy(chunk, from - offset, from - at, to - at);
      }
      return emit(chunk, offset);
    });
    await emit(Buffer.concat([Buffer.alloc(this.padding), table]), this.contentEnd);

    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(checksum.digest());
    await output.write(sum, 0, 4, checksumOffset);
  }
}

export const peFormat: FileFormat = {
  name: 'PE',
  matches: looksLikePe,
  async open(handle: FileHandle, size: number): Promise<SignableFile> {
    const layout = await readPeLayout(handle, size);
    let signature: Buffer | undefined;
    if (layout.certTable) {
      const table = Buffer.alloc(layout.certTable.size);
      await handle.read(table, 0, table.length, layout.certTable.offset);
      signature = signatureFromCertificateTable(table);
    }
    return new PeFile(handle, layout, signature);
  },
};
