import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { UserError } from '../../errors.js';
import { readFully } from '../../io/exact-io.js';
import { displayName } from './msi-names.js';

/** The Compound File Binary signature: the first 8 bytes of every MSI, MSM, MSP and MST. */
export const CFB_MAGIC = Buffer.from('d0cf11e0a1b11ae1', 'hex');

export const HEADER_SIZE = 512;
export const ENTRY_SIZE = 128;
export const MINI_SECTOR_SIZE = 64;
/** Streams smaller than this live in the mini stream (MS-CFB 2.2: always 4096). */
export const MINI_STREAM_CUTOFF = 4096;
export const HEADER_DIFAT_ENTRIES = 109;
const ROOT_NAME = Buffer.from('Root Entry\u0000', 'utf16le');
/** How deep storages may nest. */
const MAX_DEPTH = 64;

export const MAXREGSECT = 0xfffffffa;
export const DIFSECT = 0xfffffffc;
export const FATSECT = 0xfffffffd;
export const ENDOFCHAIN = 0xfffffffe;
export const FREESECT = 0xffffffff;
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

export interface FileRange {
  readonly offset: number;
  readonly length: number;
}

export interface CompoundFile {
  readonly majorVersion: 3 | 4;
  readonly sectorSize: number;
  readonly root: CfbEntry;
}

/** Adds a piece to a stream's ranges, joined to the last range when they touch. */
function extend(ranges: { offset: number; length: number }[], offset: number, length: number): void {
  const last = ranges[ranges.length - 1];
  if (last && last.offset + last.length === offset) last.length += length;
  else ranges.push({ offset, length });
}

function corrupt(problem: string): UserError {
  return new UserError(
    `not a valid compound file (MSI): ${problem}; the file is truncated or damaged — rebuild it or copy it again`,
  );
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
  const sectorSize = 1 << sectorShift;
  const sectorCount = Math.ceil((fileSize - sectorSize) / sectorSize);
  const fatSectorCount = header.readUInt32LE(44);
  const perSector = sectorSize / 4;
  if (fatSectorCount > sectorCount) {
    throw corrupt(
      `the header counts ${fatSectorCount} FAT sectors, more than the file's ${sectorCount} sectors`,
    );
  }
  /** Which chain owns each sector (an index into `owners`, 0 for none): a second claim is a loop or a cross-link. */
  const ownerOf = new Uint32Array(Math.max(sectorCount, 0));
  const owners = [''];
  const owner = (what: string) => owners.push(what) - 1;
  const claim = (sector: number, id: number) => {
    if (sector >= sectorCount)
      throw corrupt(
        `${owners[id]} points to sector ${sector}, beyond the end of the file (${sectorCount} sectors)`,
      );
    const before = ownerOf[sector];
    if (before) {
      throw corrupt(
        before === id
          ? `${owners[id]} loops (sector ${sector} comes twice in its chain)`
          : `sector ${sector} belongs to both ${owners[before]} and ${owners[id]}`,
      );
    }
    ownerOf[sector] = id;
  };
  const readSector = async (sector: number, what: string): Promise<Buffer> => {
    const bytes = await readFully(handle, sectorSize, (sector + 1) * sectorSize);
    if (!bytes) throw corrupt(`${what} (sector ${sector}) lies past the end of the file`);
    return bytes;
  };
  /** The sectors' bytes in their order: adjacent sectors read together, the runs read at once. */
  const readSectors = async (sectors: readonly number[], what: string): Promise<Buffer> => {
    const runs: { start: number; count: number }[] = [];
    for (const sector of sectors) {
      const last = runs.at(-1);
      if (last && last.start + last.count === sector && last.count < 1024) last.count++;
      else runs.push({ start: sector, count: 1 });
    }
    const parts = await Promise.all(
      runs.map(async ({ start, count }) => {
        const bytes = await readFully(handle, count * sectorSize, (start + 1) * sectorSize);
        if (!bytes)
          throw corrupt(`${what} (sectors ${start}–${start + count - 1}) lies past the end of the file`);
        return bytes;
      }),
    );
    return Buffer.concat(parts);
  };
  /** A table of sector numbers (FAT, mini FAT) from the sectors that hold it. */
  const readTable = async (sectors: readonly number[], what: string): Promise<Uint32Array> => {
    const bytes = await readSectors(sectors, what);
    // A copy as an aligned array: read as is on little-endian hosts (all that Node runs on for us), swapped elsewhere.
    const table = new Uint32Array(new Uint8Array(bytes).buffer);
    if (endianness() === 'BE') for (let i = 0; i < table.length; i++) table[i] = bytes.readUInt32LE(4 * i);
    return table;
  };

  // DIFAT: the FAT's own sectors, 109 in the header, the rest in a chain of DIFAT sectors.
  const fatSectors: number[] = [];
  for (let i = 0; i < HEADER_DIFAT_ENTRIES && fatSectors.length < fatSectorCount; i++)
    fatSectors.push(header.readUInt32LE(76 + 4 * i));
  let difatSector = header.readUInt32LE(68);
  const difat = owner('the DIFAT');
  for (let i = 0; fatSectors.length < fatSectorCount; i++) {
    if (difatSector === ENDOFCHAIN || difatSector === FREESECT || i >= header.readUInt32LE(72))
      throw corrupt(`the DIFAT lists ${fatSectors.length} of the ${fatSectorCount} FAT sectors`);
    claim(difatSector, difat);
    const sector = await readSector(difatSector, 'the DIFAT');
    for (let j = 0; j < perSector - 1 && fatSectors.length < fatSectorCount; j++)
      fatSectors.push(sector.readUInt32LE(4 * j));
    difatSector = sector.readUInt32LE(sectorSize - 4);
  }
  const fatOwner = owner('the FAT');
  for (const sector of fatSectors) claim(sector, fatOwner);
  const fat = await readTable(fatSectors, 'the FAT');

  /** The sectors of a chain in the FAT, each claimed for `what`; at least `minimum` of them. */
  const chain = (start: number, what: string, minimum: number): number[] => {
    const sectors: number[] = [];
    const id = owner(what);
    for (let sector = start; sector !== ENDOFCHAIN; sector = fat[sector]) {
      if (sector > MAXREGSECT || sector >= fat.length)
        throw corrupt(
          `${what} has a bad FAT chain (sector ${sectors.at(-1) ?? 'start'} leads to ${sector.toString(16)}h)`,
        );
      claim(sector, id);
      sectors.push(sector);
    }
    if (sectors.length < minimum)
      throw corrupt(`${what} needs ${minimum} sectors but its chain has ${sectors.length}`);
    return sectors;
  };
  const rangesOf = (sectors: readonly number[], size: number, what: string): FileRange[] => {
    const ranges: { offset: number; length: number }[] = [];
    for (let i = 0, left = size; left > 0; i++, left -= sectorSize) {
      const offset = (sectors[i] + 1) * sectorSize;
      const length = Math.min(sectorSize, left);
      if (offset + length > fileSize) throw corrupt(`${what} lies past the end of the file`);
      extend(ranges, offset, length);
    }
    return ranges;
  };

  // The directory: 128-byte entries in a chain of sectors.
  const directorySectors = chain(header.readUInt32LE(48), 'the directory', 1);
  const directory = await readSectors(directorySectors, 'the directory');
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
  const miniStreamSectors = chain(
    miniStreamSize ? raw(0).readUInt32LE(116) : ENDOFCHAIN,
    'the mini stream',
    Math.ceil(miniStreamSize / sectorSize),
  );
  const miniFatSectors = chain(
    header.readUInt32LE(60),
    'the mini FAT',
    Math.min(header.readUInt32LE(64), sectorCount),
  );
  const miniFat = await readTable(miniFatSectors, 'the mini FAT');
  const miniSectorCount = Math.ceil(miniStreamSize / MINI_SECTOR_SIZE);
  const miniOwner: (string | undefined)[] = new Array<string | undefined>(miniSectorCount);

  const miniRanges = (start: number, size: number, what: string): FileRange[] => {
    const ranges: { offset: number; length: number }[] = [];
    let sector = start;
    for (let left = size; left > 0; left -= MINI_SECTOR_SIZE) {
      if (sector === ENDOFCHAIN) {
        throw corrupt(
          `${what} is ${size} bytes but its chain in the mini stream holds ${size - left} (its size or the mini FAT is wrong)`,
        );
      }
      if (sector >= miniSectorCount || sector >= miniFat.length)
        throw corrupt(`${what} has a bad mini FAT chain (mini sector ${sector.toString(16)}h)`);
      if (miniOwner[sector] !== undefined) {
        throw corrupt(
          miniOwner[sector] === what
            ? `${what} loops in the mini FAT`
            : `mini sector ${sector} belongs to both ${miniOwner[sector]} and ${what}`,
        );
      }
      miniOwner[sector] = what;
      const at = sector * MINI_SECTOR_SIZE;
      const offset = (miniStreamSectors[Math.floor(at / sectorSize)] + 1) * sectorSize + (at % sectorSize);
      const length = Math.min(MINI_SECTOR_SIZE, left);
      if (offset + length > fileSize) throw corrupt(`${what} lies past the end of the file`);
      extend(ranges, offset, length);
      sector = miniFat[sector];
    }
    if (sector !== ENDOFCHAIN) throw corrupt(`${what} is longer in the mini FAT than its size`);
    return ranges;
  };

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
          ? miniRanges(start, size, what)
          : rangesOf(chain(start, what, Math.ceil(size / sectorSize)), size, what);
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

/**
 * Reads a stream's bytes in order, `chunk` bytes at most per read through two reused buffers: the
 * next read runs while the caller handles the current chunk (which it must not keep).
 */
export async function readStream(
  handle: FileHandle,
  entry: CfbEntry,
  onChunk: (bytes: Buffer) => void | Promise<void>,
  chunk = 4 << 20,
): Promise<void> {
  const pieces: FileRange[] = [];
  for (const { offset, length } of entry.ranges) {
    for (let done = 0; done < length; done += chunk)
      pieces.push({ offset: offset + done, length: Math.min(chunk, length - done) });
  }
  const size = Math.min(chunk, entry.size);
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(pieces.length > 1 ? size : 0)];
  const read = async (index: number): Promise<Buffer> => {
    const { offset, length } = pieces[index];
    const buffer = buffers[index % 2].subarray(0, length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    if (bytesRead !== length) throw new UserError('the file changed while being read');
    return buffer;
  };
  let next = pieces.length ? read(0) : undefined;
  try {
    for (let index = 0; index < pieces.length; index++) {
      const bytes = await next!;
      next = index + 1 < pieces.length ? read(index + 1) : undefined;
      await onChunk(bytes);
    }
  } finally {
    // After a failure, no read is left in flight on a handle about to be closed.
    await next?.catch(() => undefined);
  }
}
