import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { UserError } from '../../errors.js';
import { readFully } from '../../io/exact-io.js';

export const MINI_SECTOR_SIZE = 64;
export const MAXREGSECT = 0xfffffffa;
export const DIFSECT = 0xfffffffc;
export const FATSECT = 0xfffffffd;
export const ENDOFCHAIN = 0xfffffffe;
export const FREESECT = 0xffffffff;

export interface FileRange {
  readonly offset: number;
  readonly length: number;
}

export function corrupt(problem: string): UserError {
  return new UserError(
    `not a valid compound file (MSI): ${problem}; the file is truncated or damaged — rebuild it or copy it again`,
  );
}

/** Adds a piece to a stream's ranges, joined to the last range when they touch. */
function extend(ranges: { offset: number; length: number }[], offset: number, length: number): void {
  const last = ranges[ranges.length - 1];
  if (last && last.offset + last.length === offset) last.length += length;
  else ranges.push({ offset, length });
}

/**
 * Who owns which sector (or mini sector): each chain claims its own, so a chain that comes back to
 * one of its sectors loops, and one that meets another's is cross-linked.
 */
class Owners {
  private readonly ownerOf: Uint32Array;
  /** Chain names by id; 0 is nobody. */
  private readonly names = [''];

  constructor(
    private readonly count: number,
    private readonly unit: string,
    private readonly container: string,
  ) {
    this.ownerOf = new Uint32Array(Math.max(count, 0));
  }

  owner(what: string): number {
    return this.names.push(what) - 1;
  }

  claim(index: number, id: number): void {
    if (index >= this.count)
      throw corrupt(
        `${this.names[id]} points to ${this.unit} ${index}, beyond the end of ${this.container} (${this.count} ${this.unit}s)`,
      );
    const before = this.ownerOf[index];
    if (before) {
      throw corrupt(
        before === id
          ? `${this.names[id]} loops (${this.unit} ${index} comes twice in its chain)`
          : `${this.unit} ${index} belongs to both ${this.names[before]} and ${this.names[id]}`,
      );
    }
    this.ownerOf[index] = id;
  }
}

/** The sectors of a compound file and its FAT: chains checked against the file as they are followed. */
export class Sectors {
  readonly count: number;
  private readonly owners: Owners;
  private fat: Uint32Array = new Uint32Array(0);

  constructor(
    private readonly handle: FileHandle,
    private readonly fileSize: number,
    readonly size: number,
  ) {
    // The header takes the first sector's room; a last partial sector counts.
    this.count = Math.ceil((fileSize - size) / size);
    this.owners = new Owners(this.count, 'sector', 'the file');
  }

  /** One sector's bytes. */
  async read(sector: number, what: string): Promise<Buffer> {
    const bytes = await readFully(this.handle, this.size, (sector + 1) * this.size);
    if (!bytes) throw corrupt(`${what} (sector ${sector}) lies past the end of the file`);
    return bytes;
  }

  /** The sectors' bytes in their order: adjacent sectors read together, the runs read at once. */
  async readAll(sectors: readonly number[], what: string): Promise<Buffer> {
    const runs: { start: number; count: number }[] = [];
    for (const sector of sectors) {
      const last = runs.at(-1);
      if (last && last.start + last.count === sector && last.count < 1024) last.count++;
      else runs.push({ start: sector, count: 1 });
    }
    const parts = await Promise.all(
      runs.map(async ({ start, count }) => {
        const bytes = await readFully(this.handle, count * this.size, (start + 1) * this.size);
        if (!bytes)
          throw corrupt(`${what} (sectors ${start}–${start + count - 1}) lies past the end of the file`);
        return bytes;
      }),
    );
    return Buffer.concat(parts);
  }

  /** A table of sector numbers (FAT, mini FAT) from the sectors that hold it. */
  async readTable(sectors: readonly number[], what: string): Promise<Uint32Array> {
    const bytes = await this.readAll(sectors, what);
    // An aligned copy, as is on little-endian hosts (all Node runs on for us), swapped elsewhere.
    const table = new Uint32Array(new Uint8Array(bytes).buffer);
    if (endianness() === 'BE') for (let i = 0; i < table.length; i++) table[i] = bytes.readUInt32LE(4 * i);
    return table;
  }

  /** Marks sectors that are not a chain in the FAT (the FAT's and the DIFAT's own) as `what`'s. */
  claim(sectors: readonly number[], what: string): void {
    const id = this.owners.owner(what);
    for (const sector of sectors) this.owners.claim(sector, id);
  }

  /** Reads the FAT from its sectors, which the caller found in the DIFAT. */
  async readFat(sectors: readonly number[]): Promise<void> {
    this.claim(sectors, 'the FAT');
    this.fat = await this.readTable(sectors, 'the FAT');
  }

  /** The sectors of a chain in the FAT, each claimed for `what`; at least `minimum` of them. */
  chain(start: number, what: string, minimum: number): number[] {
    const sectors: number[] = [];
    const id = this.owners.owner(what);
    for (let sector = start; sector !== ENDOFCHAIN; sector = this.fat[sector]) {
      if (sector > MAXREGSECT || sector >= this.fat.length)
        throw corrupt(
          `${what} has a bad FAT chain (sector ${sectors.at(-1) ?? 'start'} leads to ${sector.toString(16)}h)`,
        );
      this.owners.claim(sector, id);
      sectors.push(sector);
    }
    if (sectors.length < minimum)
      throw corrupt(`${what} needs ${minimum} sectors but its chain has ${sectors.length}`);
    return sectors;
  }

  /** Where the first `size` bytes of a chain lie in the file. */
  ranges(sectors: readonly number[], size: number, what: string): FileRange[] {
    const ranges: { offset: number; length: number }[] = [];
    for (let i = 0, left = size; left > 0; i++, left -= this.size) {
      const offset = (sectors[i] + 1) * this.size;
      const length = Math.min(this.size, left);
      if (offset + length > this.fileSize) throw corrupt(`${what} lies past the end of the file`);
      extend(ranges, offset, length);
    }
    return ranges;
  }
}

/** The mini stream: 64-byte sectors inside the root's data, chained by the mini FAT. */
export class MiniStream {
  private readonly count: number;
  private readonly owners: Owners;

  constructor(
    private readonly sectors: Sectors,
    /** The root's chain, which holds the mini stream. */
    private readonly chain: readonly number[],
    size: number,
    private readonly miniFat: Uint32Array,
    private readonly fileSize: number,
  ) {
    this.count = Math.ceil(size / MINI_SECTOR_SIZE);
    this.owners = new Owners(this.count, 'mini sector', 'the mini stream');
  }

  /** Where a small stream's bytes lie in the file, its mini chain checked. */
  ranges(start: number, size: number, what: string): FileRange[] {
    const ranges: { offset: number; length: number }[] = [];
    const id = this.owners.owner(what);
    let sector = start;
    for (let left = size; left > 0; left -= MINI_SECTOR_SIZE) {
      if (sector === ENDOFCHAIN) {
        throw corrupt(
          `${what} is ${size} bytes but its chain in the mini stream holds ${size - left} (its size or the mini FAT is wrong)`,
        );
      }
      if (sector >= this.miniFat.length)
        throw corrupt(`${what} has a bad mini FAT chain (mini sector ${sector.toString(16)}h)`);
      this.owners.claim(sector, id);
      const at = sector * MINI_SECTOR_SIZE;
      const { size: sectorSize } = this.sectors;
      const offset = (this.chain[Math.floor(at / sectorSize)] + 1) * sectorSize + (at % sectorSize);
      const length = Math.min(MINI_SECTOR_SIZE, left);
      if (offset + length > this.fileSize) throw corrupt(`${what} lies past the end of the file`);
      extend(ranges, offset, length);
      sector = this.miniFat[sector];
    }
    if (sector !== ENDOFCHAIN) throw corrupt(`${what} is longer in the mini FAT than its size`);
    return ranges;
  }
}
