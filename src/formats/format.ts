import type { FileHandle } from 'node:fs/promises';
import type * as asn1js from 'asn1js';
import type { HashAlgorithm } from '../authenticode/algorithms.js';
import type { FileEdit } from '../io/in-place-edit.js';

/** What a format puts in SpcIndirectDataContent: its SpcAttributeTypeAndOptionalValue and its digest. */
export interface IndirectData {
  readonly type: string;
  readonly value: asn1js.AsnType;
  readonly hash: HashAlgorithm;
  readonly digest: Buffer;
}

export interface DigestOptions {
  /** Add per-page hashes (PE only), so Windows can check pages as it loads them. */
  readonly pageHashes?: boolean;
  /**
   * The digest the file's present signature covers, for verifying it, rather than the one signing
   * writes (they differ for an MSI with an MsiDigitalSignatureEx stream, which signing drops).
   */
  readonly asSigned?: boolean;
  /**
   * The new file, for a format rewritten whole (`rewrittenWhole`): what the signature does not change
   * may be written to it as the original is read for the digest, so a large file is read once. The
   * rewrite `signatureEdit` then returns completes this same file.
   */
  readonly newFile?: FileHandle;
}

/** One opened file of a known format. It never writes to the file it was opened from. */
export interface SignableFile {
  readonly format: string;
  /** The embedded signature (DER PKCS#7 ContentInfo), if the file has one. */
  readonly signature: Buffer | undefined;
  /** Signing writes a new file in its place (`signatureEdit` answers a FileRewrite), not an edit. */
  readonly rewrittenWhole?: boolean;
  indirectData(hash: HashAlgorithm, options?: DigestOptions): Promise<IndirectData>;
  /**
   * Checks the format-specific part of an existing signature's SpcAttributeTypeAndOptionalValue
   * (e.g. PE page hashes). Returns a problem, or undefined when it holds.
   */
  checkIndirectData(type: string, value: asn1js.AsnType | undefined): Promise<string | undefined>;
  /** The change that makes the file carry `signature` as its only signature blob. */
  signatureEdit(signature: Buffer): Promise<FileEdit | FileRewrite>;
}

/**
 * A file rewritten whole (e.g. an MSI, whose streams move): the new file is written beside the
 * original and put in its place only once complete, so a crash leaves one or the other.
 */
export interface FileRewrite {
  /**
   * Makes `out` the complete signed file, reading the original through its own handle (writing what
   * the digest did not already write to it, see DigestOptions.newFile); returns the new length.
   */
  write(out: FileHandle): Promise<number>;
}

export function isRewrite(change: FileEdit | FileRewrite): change is FileRewrite {
  return 'write' in change;
}

/** One file format: recognised by its content (by its name only where content cannot tell), opened from a read-only handle. */
export interface FileFormat {
  readonly name: string;
  /** `name`: the file's base name, for formats such as scripts that only their extension tells. */
  matches(head: Buffer, name: string): boolean;
  /** `head`: the file's first HEAD_BYTES (or all of a smaller file). */
  open(handle: FileHandle, size: number, head: Buffer): Promise<SignableFile>;
}
