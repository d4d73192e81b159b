import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type * as asn1js from 'asn1js';
import type { HashAlgorithm } from '../../authenticode/algorithms.js';
import { UserError } from '../../errors.js';
import { readRanges, type ByteRange } from '../../io/ranges.js';
import type { FileEdit } from '../../io/in-place-edit.js';
import type { DigestOptions, FileFormat, IndirectData, SignableFile } from '../format.js';
import { buildCertificateTable, signatureFromCertificateTable } from './certificate-table.js';
import { PeChecksum } from './checksum.js';
import { CHECKSUM_THREAD_MIN_BYTES, checksumOnThread } from './checksum-thread.js';
import { looksLikePe, readPeLayout, type PeLayout } from './headers.js';
import { encodePeImageData, pageHashesOf, SPC_PE_IMAGE_DATA } from './image-data.js';
import {
  checkPageHashable,
  computePageHashes,
  decodePageHashes,
  encodePageHashes,
  pageHashAlgorithm,
} from './page-hashes.js';

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

  /** Sum of the file as the checksum sees it before signing: CheckSum and Certificate Table entry as zero. */
  private checksumBase?: PeChecksum;
  /** One read per digest algorithm, however many signatures (nested ones too) ask for it. */
  private readonly digests = new Map<HashAlgorithm, Promise<Buffer>>();

  digest(hash: HashAlgorithm): Promise<Buffer> {
    let digest = this.digests.get(hash);
    if (!digest) {
      digest = this.readDigest(hash);
      this.digests.set(hash, digest);
    }
    return digest;
  }

  /**
   * One read of the signed region computes the Authenticode digest and (the first time) the checksum
   * together; for a large file the checksum is summed on a second thread meanwhile. The digest skips
   * the CheckSum field and the Certificate Table entry; the checksum counts them as zero.
   */
  private async readDigest(hash: HashAlgorithm): Promise<Buffer> {
    const { checksumOffset, certDirOffset } = this.layout;
    const hasher = createHash(hash);
    const hashed: ByteRange[] = [
      { start: 0, end: checksumOffset },
      { start: checksumOffset + 4, end: certDirOffset },
      { start: certDirOffset + 8, end: this.contentEnd },
    ];
    const onThread =
      !this.checksumBase && this.contentEnd >= CHECKSUM_THREAD_MIN_BYTES
        ? checksumOnThread(this.handle.fd, hashed)
        : undefined;
    const inline = this.checksumBase || onThread ? undefined : new PeChecksum();
    let threaded: PeChecksum | undefined;
    try {
      [threaded] = await Promise.all([
        onThread?.result,
        readRanges(this.handle, hashed, (chunk, offset) => {
          hasher.update(chunk);
          if (!inline) return;
          if (offset === checksumOffset + 4) inline.update(Buffer.alloc(4));
          if (offset === certDirOffset + 8) inline.update(Buffer.alloc(8));
          inline.update(chunk);
        }),
      ]);
    } catch (error) {
      // The file failed: its thread must not read on (the descriptor is closed next).
      await onThread?.stop();
      throw error;
    }
    this.checksumBase ??= threaded ?? inline;
    return hasher.update(Buffer.alloc(this.padding)).digest();
  }

  async indirectData(hash: HashAlgorithm, options: DigestOptions = {}): Promise<IndirectData> {
    let pageHashes: Buffer | undefined;
    if (options.pageHashes) {
      checkPageHashable(this.layout);
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

  async signatureEdit(signature: Buffer): Promise<FileEdit> {
    const { checksumOffset, certDirOffset } = this.layout;
    const table = buildCertificateTable(signature);
    const tableOffset = this.contentEnd + this.padding;
    if (tableOffset + table.length > 0xffffffff) throw new UserError('the signed file would exceed 4 GiB');
    const directoryEntry = Buffer.alloc(8);
    directoryEntry.writeUInt32LE(tableOffset, 0);
    directoryEntry.writeUInt32LE(table.length, 4);
    const append = Buffer.concat([Buffer.alloc(this.padding), table]);

    if (!this.checksumBase) await this.digest('sha256');
    const checksum = this.checksumBase!.copy();
    checksum.update(append);
    checksum.addAt(certDirOffset, directoryEntry);
    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(checksum.digest());
    return {
      patches: [
        { offset: checksumOffset, bytes: sum },
        { offset: certDirOffset, bytes: directoryEntry },
      ],
      truncateTo: this.contentEnd,
      append,
    };
  }
}

export const peFormat: FileFormat = {
  name: 'PE',
  matches: looksLikePe,
  async open(handle: FileHandle, size: number, head: Buffer): Promise<SignableFile> {
    const layout = await readPeLayout(handle, size, head);
    let signature: Buffer | undefined;
    if (layout.certTable) {
      // readPeLayout has checked that the table ends where the file does: the size is bounded by it.
      const table = Buffer.alloc(layout.certTable.size);
      const { bytesRead } = await handle.read(table, 0, table.length, layout.certTable.offset);
      if (bytesRead !== table.length) {
        throw new UserError(
          `the certificate table could not be read (${bytesRead} of ${table.length} bytes); did the file change while it was read?`,
        );
      }
      signature = signatureFromCertificateTable(table);
    }
    return new PeFile(handle, layout, signature);
  },
};
