import type { FileHandle } from 'node:fs/promises';
import { readFully } from '../../io/exact-io.js';
import { readRanges } from '../../io/ranges.js';
import { corrupt, ENDOFCHAIN, FREESECT, MiniStream, Sectors, type FileRange } from './cfb-sectors.js';
import { displayName } from './msi-names.js';

/** The Compound File Binary signature: the first 8 bytes of every MSI, MSM, MSP and MST. */
export const CFB_MAGIC = Buffer.from('d0cf11e0a1b11ae1', 'hex');

export const HEADER_SIZE = 512;
export const ENTRY_SIZE = 128;
/** Streams smaller than this live in the mini stream (MS-CFB 2.2: always 4096). */
export const MINI_STREAM_CUTOFF = 4096;
export const HEADER_DIFAT_ENTRIES = 109;
const ROOT_NAME = Buffer.from('Root Entry\u0000', 'utf16le');
/** How deep storages may nest. */
const MAX_DEPTH = 64;

export const NOSTREAM = 0xffffffff;

export type EntryType = 'storage' | 'stream' | 'root';

/** One directory entry reachable from the root, as stored (the tree links are not kept: `children` replaces them). */
export interface CfbEntry {
  /** The stored name as UTF-16LE bytes, its 2-byte terminator included (nameLen bytes). */
  readonly name: Buffer;
  readonly type: EntryType;
  readonly clsid: Buffer;
  readonly stateBits: Buffer;
  /** Creation then modification time, 16 bytes as stored. */
  readonly times: Buffer;
  readonly size: number;
  /** Where the stream's bytes are in the file, in stream order (streams only). */
  readonly ranges: readonly FileRange[];
  /** A storage's children, in no particular order. */
  readonly children: CfbEntry[];
}

export interface CompoundFile {
  readonly majorVersion: 3 | 4;
  readonly sectorSize: number;
  readonly root: CfbEntry;
}

/** The name of an entry in words: "the stream Binary.icon". */
function describe(entry: { name: Buffer; type: EntryType }): string {
  return entry.type === 'root' ? 'the root storage' : `the ${entry.type} ${displayName(entry.name)}`;
}

/**
 * Reads the structure of a compound file through `handle`, checking every chain against the file: a
 * sector index past the end, a chain that loops or shares a sector with another, a size its chain
 * cannot hold, a directory tree that loops are refused. Stream contents are not read: only the FAT,
 * mini FAT and directory are held in memory (4 bytes per sector).
 */
export async function readCompoundFile(handle: FileHandle, fileSize: number): Promise<CompoundFile> {
  const header = await readFully(handle, HEADER_SIZE, 0);
  if (!header || fileSize < HEADER_SIZE)
    throw corrupt(`the file is ${fileSize} bytes, shorter than its header`);
  if (!header.subarray(0, 8).equals(CFB_MAGIC)) throw corrupt('the signature bytes are wrong');
  const majorVersion = header.readUInt16LE(26);
  const sectorShift = header.readUInt16LE(30);
  if (header.readUInt16LE(28) !== 0xfffe) throw corrupt('the byte order mark is not little-endian');
  if (!((majorVersion === 3 && sectorShift === 9) || (majorVersion === 4 && sectorShift === 12)))
    throw corrupt(`version ${majorVersion} with sector shift ${sectorShift} is not a known layout`);
  if (header.readUInt16LE(32) !== 6) throw corrupt('the mini sector size is not 64 bytes');
  if (header.readUInt32LE(56) !== MINI_STREAM_CUTOFF) throw corrupt('the mini stream cutoff is not 4096');
  const sectors = new Sectors(handle, fileSize, 1 << sectorShift);
  const sectorSize = sectors.size;
  const fatSectorCount = header.readUInt32LE(44);
  if (fatSectorCount > sectors.count) {
    throw corrupt(
      `the header counts ${fatSectorCount} FAT sectors, more than the file's ${sectors.count} sectors`,
    );
  }

  // DIFAT: the FAT's own sectors, 109 in the header, the rest in a chain of DIFAT sectors.
  const fatSectors: number[] = [];
  for (let i = 0; i < HEADER_DIFAT_ENTRIES && fatSectors.length < fatSectorCount; i++)
    fatSectors.push(header.readUInt32LE(76 + 4 * i));
  const difatSectors: number[] = [];
  for (let next = header.readUInt32LE(68); fatSectors.length < fatSectorCount;) {
    if (next === ENDOFCHAIN || next === FREESECT || difatSectors.length >= header.readUInt32LE(72))
      throw corrupt(`the DIFAT lists ${fatSectors.length} of the ${fatSectorCount} FAT sectors`);
    difatSectors.push(next);
    const bytes = await sectors.read(next, 'the DIFAT');
    for (let j = 0; j < sectorSize / 4 - 1 && fatSectors.length < fatSectorCount; j++)
      fatSectors.push(bytes.readUInt32LE(4 * j));
    next = bytes.readUInt32LE(sectorSize - 4);
  }
  // Claimed once read: the loop above ends with the FAT's count however the DIFAT chain runs.
  sectors.claim(difatSectors, 'the DIFAT');
  await sectors.readFat(fatSectors);

  // The directory: 128-byte entries in a chain of sectors.
  const directory = await sectors.readAll(
    sectors.chain(header.readUInt32LE(48), 'the directory', 1),
    'the directory',
  );
  const entryCount = directory.length / ENTRY_SIZE;
  const raw = (index: number) => directory.subarray(index * ENTRY_SIZE, (index + 1) * ENTRY_SIZE);
  const typeOf = (index: number): EntryType | undefined =>
    ({ 1: 'storage', 2: 'stream', 5: 'root' })[raw(index)[66]] as EntryType | undefined;
  const nameOf = (index: number): Buffer => {
    const bytes = raw(index);
    const length = bytes.readUInt16LE(64);
    if (length < 2 || length > 64 || length % 2 || bytes.readUInt16LE(length - 2) !== 0)
      throw corrupt(`directory entry ${index} has a bad name length (${length})`);
    return Buffer.from(bytes.subarray(0, length));
  };
  const sizeOf = (index: number): number => {
    const bytes = raw(index);
    // Version 3 files may leave garbage in the high half (MS-CFB 2.6.3): only version 4 sizes reach 4 GiB.
    const high = majorVersion === 4 ? bytes.readUInt32LE(124) : 0;
    if (high >= 0x200000) throw corrupt(`directory entry ${index} has an impossible size`);
    return high * 0x100000000 + bytes.readUInt32LE(120);
  };
  if (typeOf(0) !== 'root') throw corrupt('the first directory entry is not the root storage');
  if (!nameOf(0).equals(ROOT_NAME)) throw corrupt('the root storage is not named "Root Entry"');

  // The mini stream (the root's data) and the mini FAT that chains its 64-byte sectors.
  const miniStreamSize = sizeOf(0);
  const miniStreamSectors = sectors.chain(
    miniStreamSize ? raw(0).readUInt32LE(116) : ENDOFCHAIN,
    'the mini stream',
    Math.ceil(miniStreamSize / sectorSize),
  );
  const miniFatSectors = sectors.chain(
    header.readUInt32LE(60),
    'the mini FAT',
    Math.min(header.readUInt32LE(64), sectors.count),
  );
  const miniFat = await sectors.readTable(miniFatSectors, 'the mini FAT');
  const miniStream = new MiniStream(sectors, miniStreamSectors, miniStreamSize, miniFat, fileSize);

  // The tree: each storage's children are a binary tree of siblings under its child link.
  const seen = new Uint8Array(entryCount);
  const entryAt = (index: number, parent: string): CfbEntry => {
    if (index >= entryCount)
      throw corrupt(`${parent} links to directory entry ${index}, which does not exist`);
    if (seen[index]) throw corrupt(`the directory tree loops (entry ${index} is reached twice)`);
    seen[index] = 1;
    const type = typeOf(index);
    if (!type || (type === 'root') !== (index === 0))
      throw corrupt(`${parent} links to directory entry ${index}, which is not a stream or storage`);
    const bytes = raw(index);
    const name = nameOf(index);
    const size = type === 'storage' ? 0 : sizeOf(index);
    const what = describe({ name, type });
    let ranges: FileRange[] = [];
    if (type === 'stream' && size > 0) {
      const start = bytes.readUInt32LE(116);
      ranges =
        size < MINI_STREAM_CUTOFF
          ? miniStream.ranges(start, size, what)
          : sectors.ranges(sectors.chain(start, what, Math.ceil(size / sectorSize)), size, what);
    }
    return {
      name,
      type,
      clsid: Buffer.from(bytes.subarray(80, 96)),
      stateBits: Buffer.from(bytes.subarray(96, 100)),
      times: Buffer.from(bytes.subarray(100, 116)),
      size,
      ranges,
      children: [],
    };
  };
  const root = entryAt(0, 'the header');
  // Depth-first without recursion: a hostile file cannot exhaust the stack.
  const pending: { storage: CfbEntry; index: number; depth: number }[] = [
    { storage: root, index: 0, depth: 0 },
  ];
  while (pending.length) {
    const { storage, index, depth } = pending.pop()!;
    // Windows Installer nests two or three deep; the limit keeps hashing and writing off deep recursion.
    if (depth > MAX_DEPTH) throw corrupt(`storages are nested more than ${MAX_DEPTH} deep`);
    const siblings = [raw(index).readUInt32LE(76)];
    const names = new Set<string>();
    while (siblings.length) {
      const sibling = siblings.pop()!;
      if (sibling === NOSTREAM) continue;
      const child = entryAt(sibling, describe(storage));
      const key = child.name.toString('hex');
      if (names.has(key))
        throw corrupt(`${describe(storage)} holds two entries named ${displayName(child.name)}`);
      names.add(key);
      storage.children.push(child);
      const bytes = raw(sibling);
      siblings.push(bytes.readUInt32LE(68), bytes.readUInt32LE(72));
      if (child.type === 'storage') pending.push({ storage: child, index: sibling, depth: depth + 1 });
      else if (bytes.readUInt32LE(76) !== NOSTREAM) throw corrupt(`${describe(child)} has children`);
    }
  }
  return { majorVersion, sectorSize, root };
}

/** Streams a stream's bytes in order through `readRanges` (the caller must not keep a chunk). */
export function readStream(
  handle: FileHandle,
  entry: CfbEntry,
  onChunk: (bytes: Buffer) => void | Promise<void>,
): Promise<void> {
  const ranges = entry.ranges.map(({ offset, length }) => ({ start: offset, end: offset + length }));
  return readRanges(handle, ranges, (bytes) => onChunk(bytes));
}
