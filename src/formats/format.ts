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
}

/** One opened file of a known format. It never writes to the file it was opened from. */
export interface SignableFile {
  readonly format: string;
  /** The embedded signature (DER PKCS#7 ContentInfo), if the file has one. */
  readonly signature: Buffer | undefined;
  indirectData(hash: HashAlgorithm, options?: DigestOptions): Promise<IndirectData>;
  /**
   * Checks the format-specific part of an existing signature's SpcAttributeTypeAndOptionalValue
   * (e.g. PE page hashes). Returns a problem, or undefined when it holds.
   */
  checkIndirectData(type: string, value: asn1js.AsnType | undefined): Promise<string | undefined>;
  /** The edit that makes the file carry `signature` as its only signature blob. */
  signatureEdit(signature: Buffer): Promise<FileEdit>;
}

/** One file format: recognised by its content, opened from a read-only handle. */
export interface FileFormat {
  readonly name: string;
  matches(head: Buffer): boolean;
  /** `head`: the file's first HEAD_BYTES (or all of a smaller file). */
  open(handle: FileHandle, size: number, head: Buffer): Promise<SignableFile>;
}
