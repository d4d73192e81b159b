import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type * as asn1js from 'asn1js';
import type { HashAlgorithm } from '../../authenticode/algorithms.js';
import { UserError } from '../../errors.js';
import { readFully, writeFully } from '../../io/exact-io.js';
import type { FileEdit } from '../../io/in-place-edit.js';
import { readRanges } from '../../io/ranges.js';
import type { FileFormat, FileRewrite, IndirectData, SignableFile } from '../format.js';
import { obsoleteLink } from '../../authenticode/obsolete-link.js';
import { cabDataProblem, SPC_CAB_DATA } from './cab-data.js';
import { readCabHeader, RESERVE_INSERT, RESERVE_SIZES, SIGNATURE_LENGTH, type CabHeader } from './header.js';
import { paddedSignature, signatureFromBlob } from './signature-blob.js';
import { hashedHeaderRanges, signedHeader } from './signed-header.js';

const MAGIC = Buffer.from('MSCF', 'latin1');

class CabFile implements SignableFile {
  readonly format = 'CAB';
  /** One read per digest algorithm, however many signatures (nested ones too) ask for it. */
  private readonly digests = new Map<HashAlgorithm, Promise<Buffer>>();

  constructor(
    private readonly handle: FileHandle,
    private readonly header: CabHeader,
    readonly signature: Buffer | undefined,
  ) {}

  /**
   * The digest of the cabinet as it is once signed: an unsigned one is hashed with the header it will
   * have (reserve inserted, offsets moved), so the digest signed is the one osslsigncode verifies.
   * The data after the header is streamed from the file.
   */
  private digest(hash: HashAlgorithm): Promise<Buffer> {
    let digest = this.digests.get(hash);
    if (!digest) {
      digest = (async () => {
        const hasher = createHash(hash);
        const header = signedHeader(this.header, 0);
        for (const { start, end } of hashedHeaderRanges(header.length))
          hasher.update(header.subarray(start, end));
        const data = { start: this.header.foldersEnd, end: this.header.cabinetEnd };
        await readRanges(this.handle, [data], (chunk) => {
          hasher.update(chunk);
        });
        return hasher.digest();
      })();
      this.digests.set(hash, digest);
    }
    return digest;
  }

  /** Page hashes are a PE feature: for a cabinet, as in osslsigncode, the option has no effect. */
  async indirectData(hash: HashAlgorithm): Promise<IndirectData> {
    // osslsigncode's value (`cab_obsolete_link_get`): the bare SpcLink.file, not in an SpcPeImageData.
    return { type: SPC_CAB_DATA, value: obsoleteLink(), hash, digest: await this.digest(hash) };
  }

  checkIndirectData(type: string, value: asn1js.AsnType | undefined): Promise<string | undefined> {
    return Promise.resolve(cabDataProblem(type, value));
  }

  /**
   * A cabinet with the signature reserve is patched (its record), cut at the end of the cabinet data
   * and the new signature appended; an unsigned one moves by 24 bytes, so it is written anew.
   */
  signatureEdit(signature: Buffer): Promise<FileEdit | FileRewrite> {
    const blob = paddedSignature(signature);
    const { cabinetEnd, foldersEnd, hasReserve } = this.header;
    const signedEnd = cabinetEnd + (hasReserve ? 0 : RESERVE_INSERT);
    if (signedEnd + blob.length > 0xffffffff)
      throw new UserError('the signed cabinet would exceed 4 GiB, the most its header can describe');
    const header = signedHeader(this.header, blob.length);
    if (hasReserve) {
      return Promise.resolve({
        // The record (an emptied reserve has none yet), the signature's offset and its length.
        patches: [{ offset: RESERVE_SIZES, bytes: header.subarray(RESERVE_SIZES, SIGNATURE_LENGTH + 4) }],
        truncateTo: cabinetEnd,
        append: blob,
      });
    }
    const { handle } = this;
    return Promise.resolve({
      async write(out: FileHandle): Promise<number> {
        await writeFully(out, header, 0);
        const moved = header.length - foldersEnd;
        await readRanges(handle, [{ start: foldersEnd, end: cabinetEnd }], (chunk, offset) =>
          writeFully(out, chunk, offset + moved),
        );
        await writeFully(out, blob, signedEnd);
        return signedEnd + blob.length;
      },
    });
  }
}

export const cabFormat: FileFormat = {
  name: 'CAB',
  matches: (head) => head.length >= MAGIC.length && head.subarray(0, MAGIC.length).equals(MAGIC),
  async open(handle: FileHandle, size: number, head: Buffer): Promise<SignableFile> {
    const header = await readCabHeader(handle, size, head);
    let signature: Buffer | undefined;
    if (header.signature) {
      // readCabHeader has checked that the signature ends where the file does: its size is bounded by it.
      const { offset, length } = header.signature;
      const blob = await readFully(handle, length, offset);
      if (!blob) throw new UserError('the file changed while its signature was read');
      signature = signatureFromBlob(blob);
    }
    return new CabFile(handle, header, signature);
  },
};
