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

/** Called with each stream's bytes as the digest reads them, in hash order, chunk by chunk. */
export type StreamReader = (entry: CfbEntry, bytes: Buffer) => void | Promise<void>;

/**
 * What the digest reads, in order: each storage's streams and sub-storages in hash order, then the
 * storage's class id (it tells an MSI from an MSP, and is signed too); the signature streams left out.
 */
function* digestOrder(storage: CfbEntry): Generator<{ stream: CfbEntry } | { clsid: Buffer }> {
  for (const child of inHashOrder(storage.children)) {
    if (storage.type === 'root' && isSignatureStream(child)) continue;
    if (child.type === 'storage') yield* digestOrder(child);
    else yield { stream: child };
  }
  yield { clsid: storage.clsid };
}

/** Every stream a signature covers, in the order the digest reads them. */
export function streamsInHashOrder(root: CfbEntry): CfbEntry[] {
  return [...digestOrder(root)].flatMap((part) => ('stream' in part ? [part.stream] : []));
}

/** An entry's metadata as MsiDigitalSignatureEx covers it (osslsigncode `prehash_metadata`). */
function hashMetadata(entry: CfbEntry, hasher: Hash): void {
  if (entry.type !== 'root') hasher.update(entry.name.subarray(0, entry.name.length - 2));
  if (entry.type === 'stream') {
    const size = Buffer.alloc(4);
    size.writeUInt32LE(entry.size % 0x100000000);
    hasher.update(size);
  } else hasher.update(entry.clsid);
  hasher.update(entry.stateBits);
  if (entry.type !== 'root') hasher.update(entry.times);
}

function prehashStorage(storage: CfbEntry, hasher: Hash): void {
  hashMetadata(storage, hasher);
  for (const child of inHashOrder(storage.children)) {
    if (storage.type === 'root' && isSignatureStream(child)) continue;
    if (child.type === 'storage') prehashStorage(child, hasher);
    else hashMetadata(child, hasher);
  }
}

/**
 * The pre-hash an MsiDigitalSignatureEx stream holds (research 1.2): names, sizes, state bits and
 * times of every entry in hash order, no content.
 */
export function msiMetadataPrehash(root: CfbEntry, hash: HashAlgorithm): Buffer {
  const hasher = createHash(hash);
  prehashStorage(root, hasher);
  return hasher.digest();
}

/**
 * The content digest a DigitalSignature stream signs (research 1.1): every stream's bytes, storage by
 * storage in hash order, each storage's CLSID after its children; the signature streams left out.
 * `extended` (a file with an MsiDigitalSignatureEx stream, osslsigncode -add-msi-dse): the metadata
 * pre-hash comes first. `onBytes` sees every stream's bytes as they are read (to copy them as well).
 */
export async function msiContentDigest(
  handle: FileHandle,
  root: CfbEntry,
  hash: HashAlgorithm,
  { extended = false, onBytes }: { extended?: boolean; onBytes?: StreamReader } = {},
): Promise<Buffer> {
  const hasher = createHash(hash);
  if (extended) hasher.update(msiMetadataPrehash(root, hash));
  for (const part of digestOrder(root)) {
    if ('clsid' in part) hasher.update(part.clsid);
    else
      await readStream(handle, part.stream, (bytes) => {
        // Handed on first: a copy written through the thread pool runs while this thread hashes.
        const handedOn = onBytes?.(part.stream, bytes);
        hasher.update(bytes);
        return handedOn;
      });
  }
  return hasher.digest();
}
