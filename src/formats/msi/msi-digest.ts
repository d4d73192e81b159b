import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { HashAlgorithm } from '../../authenticode/algorithms.js';
import { readStream, type CfbEntry } from './cfb-reader.js';
import { storedName } from './msi-names.js';

/** The root streams that hold signatures: never part of what is signed. */
export const DIGITAL_SIGNATURE = '\u0005DigitalSignature';
export const DIGITAL_SIGNATURE_EX = '\u0005MsiDigitalSignatureEx';

export function isSignatureStream(entry: CfbEntry): boolean {
  const name = storedName(entry.name);
  return entry.type === 'stream' && (name === DIGITAL_SIGNATURE || name === DIGITAL_SIGNATURE_EX);
}

/**
 * The order Windows hashes a storage's children in: memcmp of the stored UTF-16LE names with their
 * terminators, so a name sorts before any longer name it begins (osslsigncode `dirent_cmp_hash`).
 */
export function inHashOrder(children: readonly CfbEntry[]): CfbEntry[] {
  return [...children].sort((a, b) => Buffer.compare(a.name, b.name));
}

async function hashStorage(handle: FileHandle, storage: CfbEntry, hasher: Hash): Promise<void> {
  for (const child of inHashOrder(storage.children)) {
    if (storage.type === 'root' && isSignatureStream(child)) continue;
    if (child.type === 'storage') await hashStorage(handle, child, hasher);
    else await readStream(handle, child, (bytes) => void hasher.update(bytes));
  }
  // The storage's class id after its children: it tells an MSI from an MSP, and is signed too.
  hasher.update(storage.clsid);
}

/**
 * The content digest a DigitalSignature stream signs (research 1.1): every stream's bytes, storage by
 * storage in hash order, each storage's CLSID after its children; the signature streams left out.
 */
export async function msiContentDigest(
  handle: FileHandle,
  root: CfbEntry,
  hash: HashAlgorithm,
): Promise<Buffer> {
  const hasher = createHash(hash);
  await hashStorage(handle, root, hasher);
  return hasher.digest();
}
