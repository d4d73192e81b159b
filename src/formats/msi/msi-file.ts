import type { FileHandle } from 'node:fs/promises';
import type * as asn1js from 'asn1js';
import type { HashAlgorithm } from '../../authenticode/algorithms.js';
import { AuthenticodeSignature } from '../../authenticode/signature.js';
import {
  encodeSipInfo,
  sipInfoProblem,
  SPC_SIP_INFO,
  type SipIdentity,
} from '../../authenticode/sip-info.js';
import { UserError } from '../../errors.js';
import type { DigestOptions, FileFormat, FileRewrite, IndirectData, SignableFile } from '../format.js';
import { CFB_MAGIC, readCompoundFile, readStream, type CfbEntry, type CompoundFile } from './cfb-reader.js';
import { rewriteWithSignature, StreamPrewriter, type Prewritten } from './cfb-writer.js';
import {
  DIGITAL_SIGNATURE,
  DIGITAL_SIGNATURE_EX,
  isSignatureStream,
  msiContentDigest,
  streamsInHashOrder,
} from './msi-digest.js';
import { storedName } from './msi-names.js';

/** Windows Installer's SIP: SpcSipInfo version 1, GUID {000C10F1-0000-0000-C000-000000000046}. */
const MSI_SIP: SipIdentity = { version: 1, uuid: Buffer.from('f1100c0000000000c000000000000046', 'hex') };

/** Larger than any signature a file can carry, nested ones included: a cap on what is read into memory. */
const MAX_SIGNATURE = 16 << 20;

/**
 * Root class ids of Windows Installer files, as stored: packages and merge modules {000C1084-…},
 * patches {000C1086-…}, transforms {000C1082-…}. Other compound files (Office documents) use other SIPs.
 */
const INSTALLER_CLASSES = [
  '84100c0000000000c000000000000046',
  '86100c0000000000c000000000000046',
  '82100c0000000000c000000000000046',
];

/** A stored (little-endian fields) GUID as text: {000C1084-0000-0000-C000-000000000046}. */
function guidText(bytes: Buffer): string {
  const hex = (b: Buffer) => b.toString('hex').toUpperCase();
  const swapped = (start: number, end: number) => hex(Buffer.from(bytes.subarray(start, end)).reverse());
  return `{${swapped(0, 4)}-${swapped(4, 6)}-${swapped(6, 8)}-${hex(bytes.subarray(8, 10))}-${hex(bytes.subarray(10, 16))}}`;
}

function rootStream(file: CompoundFile, name: string): CfbEntry | undefined {
  return file.root.children.find((child) => child.type === 'stream' && storedName(child.name) === name);
}

class MsiFile implements SignableFile {
  readonly format = 'MSI';
  readonly rewrittenWhole = true;
  /** One read per digest algorithm and mode, however many signatures ask. */
  private readonly digests = new Map<string, Promise<Buffer>>();
  /** The new file's streams, written as the digest for signing read them. */
  private prewritten: Prewritten | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly file: CompoundFile,
    readonly signature: Buffer | undefined,
    /** An MsiDigitalSignatureEx stream: the signature also covers metadata (osslsigncode -add-msi-dse). */
    private readonly extended: boolean,
  ) {}

  private digest(hash: HashAlgorithm, extended: boolean): Promise<Buffer> {
    const key = `${hash}${extended ? '+ex' : ''}`;
    let digest = this.digests.get(key);
    if (!digest) {
      digest = msiContentDigest(this.handle, this.file.root, hash, { extended });
      this.digests.set(key, digest);
    }
    return digest;
  }

  /**
   * Signing drops any MsiDigitalSignatureEx stream and signs the content alone; a signature already
   * in a file with one covers its metadata too (`asSigned`).
   */
  async indirectData(
    hash: HashAlgorithm,
    { asSigned = false, newFile }: DigestOptions = {},
  ): Promise<IndirectData> {
    const digest = newFile
      ? await this.digestWriting(hash, newFile)
      : await this.digest(hash, asSigned && this.extended);
    return { type: SPC_SIP_INFO, value: encodeSipInfo(MSI_SIP), hash, digest };
  }

  /** The digest signing writes, its streams copied to the new file as they are read. */
  private async digestWriting(hash: HashAlgorithm, out: FileHandle): Promise<Buffer> {
    const streams = new StreamPrewriter(out, this.file.sectorSize);
    const digest = await msiContentDigest(this.handle, this.file.root, hash, { onBytes: streams.onBytes });
    this.prewritten = await streams.end();
    return digest;
  }

  checkIndirectData(type: string, value: asn1js.AsnType | undefined): Promise<string | undefined> {
    return Promise.resolve(sipInfoProblem(type, value, MSI_SIP, 'an MSI'));
  }

  signatureEdit(signature: Buffer): Promise<FileRewrite> {
    if (this.extended && this.signature && this.nests(signature)) {
      // Signing drops the MsiDigitalSignatureEx stream, which the existing signature covers.
      throw new UserError(
        'its signature covers an MsiDigitalSignatureEx stream, which vaultsign does not write, so a nested signature would break it; sign without --append-signature to replace it',
      );
    }
    return Promise.resolve(
      rewriteWithSignature(this.handle, this.file, signature, isSignatureStream, {
        streamOrder: streamsInHashOrder(this.file.root),
        prewritten: this.prewritten,
      }),
    );
  }

  /** Whether `signature` keeps the file's current signature as its primary one (an appended signature). */
  private nests(signature: Buffer): boolean {
    const value = (der: Buffer) => AuthenticodeSignature.fromDer(der).signatureValue;
    return value(signature).equals(value(this.signature!));
  }
}

export const msiFormat: FileFormat = {
  name: 'MSI',
  matches: (head) => head.subarray(0, 8).equals(CFB_MAGIC),
  async open(handle: FileHandle, size: number): Promise<SignableFile> {
    const file = await readCompoundFile(handle, size);
    if (!INSTALLER_CLASSES.includes(file.root.clsid.toString('hex'))) {
      throw new UserError(
        `a compound file but not a Windows Installer file (its root class id is ${guidText(file.root.clsid)}); vaultsign signs MSI, MSM, MSP and MST files: leave it out of the file list`,
      );
    }
    for (const name of [DIGITAL_SIGNATURE, DIGITAL_SIGNATURE_EX]) {
      if (file.root.children.some((child) => child.type !== 'stream' && storedName(child.name) === name))
        throw new UserError(
          `its ${JSON.stringify(name.slice(1))} entry is a storage, not a signature stream; rebuild the package`,
        );
    }
    const stream = rootStream(file, DIGITAL_SIGNATURE);
    let signature: Buffer | undefined;
    if (stream && stream.size > 0) {
      if (stream.size > MAX_SIGNATURE)
        throw new UserError(
          `its DigitalSignature stream is ${stream.size} bytes, too large to be a signature`,
        );
      const parts: Buffer[] = [];
      await readStream(handle, stream, (bytes) => void parts.push(Buffer.from(bytes)));
      signature = Buffer.concat(parts);
    }
    return new MsiFile(handle, file, signature, rootStream(file, DIGITAL_SIGNATURE_EX) !== undefined);
  },
};
