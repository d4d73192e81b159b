/**
 * A small compound file reader and writer for test fixtures only, independent of src/formats/msi:
 * it turns a wixl MSI (version 3, streams at the root) into layouts wixl does not make — version 4
 * (4096-byte sectors), a sub-storage with its own CLSID, sibling trees with left links — so the
 * product's reader meets files it did not write. Inputs are trusted; nothing here checks much.
 */

const ENDOFCHAIN = 0xfffffffe;
const FATSECT = 0xfffffffd;
const NOSTREAM = 0xffffffff;
const CUTOFF = 4096;

export interface TestEntry {
  /** The stored name, as UTF-16 code units (MSI-packed names as they are). */
  readonly name: string;
  readonly clsid?: Buffer;
  /** Streams have bytes; storages have children. */
  readonly bytes?: Buffer;
  readonly children?: TestEntry[];
}

/**
 * Every stream of a compound file wherever it sits, in directory order, with the root's CLSID: for a
 * wixl file (all streams at the root) the input of a rewrite, for any file a record to compare.
 */
export function allStreams(file: Buffer): { clsid: Buffer; streams: TestEntry[] } {
  const S = 1 << file.readUInt16LE(30);
  const sector = (n: number) => file.subarray((n + 1) * S, (n + 2) * S);
  const fatSectors: number[] = [];
  for (let i = 0; i < 109; i++) fatSectors.push(file.readUInt32LE(76 + 4 * i));
  for (let d = file.readUInt32LE(68); d !== ENDOFCHAIN && d !== 0xffffffff; d = sector(d).readUInt32LE(S - 4))
    for (let j = 0; j < S - 4; j += 4) fatSectors.push(sector(d).readUInt32LE(j));
  const fat: number[] = [];
  for (const n of fatSectors.slice(0, file.readUInt32LE(44))) {
    const bytes = sector(n);
    for (let j = 0; j < S; j += 4) fat.push(bytes.readUInt32LE(j));
  }
  const chain = (start: number) => {
    const out: Buffer[] = [];
    for (let s = start; s !== ENDOFCHAIN; s = fat[s]) out.push(sector(s));
    return Buffer.concat(out);
  };
  const directory = chain(file.readUInt32LE(48));
  const miniFatBytes = file.readUInt32LE(64) ? chain(file.readUInt32LE(60)) : Buffer.alloc(0);
  const miniFat = Array.from({ length: miniFatBytes.length / 4 }, (_, i) => miniFatBytes.readUInt32LE(4 * i));
  const miniStream = chain(directory.readUInt32LE(116));
  const streams: TestEntry[] = [];
  for (let at = 128; at < directory.length; at += 128) {
    if (directory[at + 66] !== 2) continue;
    const name = directory.subarray(at, at + directory.readUInt16LE(at + 64) - 2).toString('utf16le');
    const size = directory.readUInt32LE(at + 120);
    let bytes: Buffer;
    if (size >= CUTOFF) bytes = chain(directory.readUInt32LE(at + 116)).subarray(0, size);
    else {
      const parts: Buffer[] = [];
      for (let s = directory.readUInt32LE(at + 116), left = size; left > 0; s = miniFat[s], left -= 64)
        parts.push(miniStream.subarray(s * 64, s * 64 + 64));
      bytes = Buffer.concat(parts).subarray(0, size);
    }
    streams.push({ name, bytes });
  }
  return { clsid: Buffer.from(directory.subarray(80, 96)), streams };
}

/** MS-CFB's sibling order: shorter names first, then by upper-cased code unit. */
function compare(a: TestEntry, b: TestEntry): number {
  if (a.name.length !== b.name.length) return a.name.length - b.name.length;
  const x = a.name.toUpperCase();
  const y = b.name.toUpperCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * A compound file of `version` holding `root`'s tree. Siblings form a balanced binary search tree
 * (left and right links, unlike the product's right-linked chain); small streams go to the mini stream.
 */
export function writeCompoundFile(version: 3 | 4, rootClsid: Buffer, root: TestEntry[]): Buffer {
  const S = version === 4 ? 4096 : 512;
  interface Placed {
    entry: TestEntry;
    left: number;
    right: number;
    child: number;
    start: number;
  }
  const placed: Placed[] = [
    {
      entry: { name: 'Root Entry', clsid: rootClsid, children: root },
      left: NOSTREAM,
      right: NOSTREAM,
      child: NOSTREAM,
      start: 0,
    },
  ];
  const tree = (siblings: TestEntry[]): number => {
    if (!siblings.length) return NOSTREAM;
    const middle = siblings.length >> 1;
    const index = placed.length;
    const node: Placed = {
      entry: siblings[middle],
      left: NOSTREAM,
      right: NOSTREAM,
      child: NOSTREAM,
      start: 0,
    };
    placed.push(node);
    node.left = tree(siblings.slice(0, middle));
    node.right = tree(siblings.slice(middle + 1));
    if (node.entry.children) node.child = tree([...node.entry.children].sort(compare));
    return index;
  };
  placed[0].child = tree([...root].sort(compare));

  const sectors: Buffer[] = [];
  const fat: number[] = [];
  const allocate = (bytes: Buffer): number => {
    if (!bytes.length) return ENDOFCHAIN;
    const start = sectors.length;
    for (let at = 0; at < bytes.length; at += S) {
      const piece = Buffer.alloc(S);
      bytes.copy(piece, 0, at, Math.min(at + S, bytes.length));
      sectors.push(piece);
      fat.push(at + S < bytes.length ? sectors.length : ENDOFCHAIN);
    }
    return start;
  };
  const mini: Buffer[] = [];
  const miniFat: number[] = [];
  for (const node of placed.slice(1)) {
    const bytes = node.entry.bytes;
    if (!bytes) continue;
    if (bytes.length >= CUTOFF) node.start = allocate(bytes);
    else if (bytes.length === 0) node.start = ENDOFCHAIN;
    else {
      node.start = mini.length;
      for (let at = 0; at < bytes.length; at += 64) {
        const piece = Buffer.alloc(64);
        bytes.copy(piece, 0, at, Math.min(at + 64, bytes.length));
        mini.push(piece);
        miniFat.push(at + 64 < bytes.length ? mini.length : ENDOFCHAIN);
      }
    }
  }
  const miniStream = Buffer.concat(mini);
  placed[0].start = allocate(miniStream);
  /** A table of sector numbers, its unused tail FREESECT. */
  const u32 = (values: number[]) => {
    const bytes = Buffer.alloc(Math.ceil((values.length * 4) / S) * S, 0xff);
    values.forEach((v, i) => bytes.writeUInt32LE(v, 4 * i));
    return bytes;
  };
  const miniFatStart = miniFat.length ? allocate(u32(miniFat)) : ENDOFCHAIN;
  const miniFatSectors = Math.ceil((miniFat.length * 4) / S);

  const directory = Buffer.alloc(Math.ceil((placed.length * 128) / S) * S);
  for (let i = placed.length; i < directory.length / 128; i++)
    directory.fill(0xff, i * 128 + 68, i * 128 + 80);
  placed.forEach((node, i) => {
    const at = i * 128;
    const name = Buffer.from(`${node.entry.name}\u0000`, 'utf16le');
    name.copy(directory, at);
    directory.writeUInt16LE(name.length, at + 64);
    directory[at + 66] = i === 0 ? 5 : node.entry.children ? 1 : 2;
    directory[at + 67] = 1;
    directory.writeUInt32LE(node.left, at + 68);
    directory.writeUInt32LE(node.right, at + 72);
    directory.writeUInt32LE(node.child, at + 76);
    node.entry.clsid?.copy(directory, at + 80);
    const size = i === 0 ? miniStream.length : (node.entry.bytes?.length ?? 0);
    directory.writeUInt32LE(node.entry.children && i !== 0 ? 0 : node.start, at + 116);
    directory.writeUInt32LE(size, at + 120);
  });
  const directoryStart = allocate(directory);

  let fatSectors = 0;
  while ((fatSectors * S) / 4 < sectors.length + fatSectors) fatSectors++;
  if (fatSectors > 109) throw new Error('test writer: too large for a header-only DIFAT');
  const fatStart = sectors.length;
  for (let i = 0; i < fatSectors; i++) fat.push(FATSECT);
  const fatBytes = u32(fat);
  if (fatBytes.length / S !== fatSectors) throw new Error('test writer: FAT size mismatch');

  const header = Buffer.alloc(S);
  Buffer.from('d0cf11e0a1b11ae1', 'hex').copy(header);
  header.writeUInt16LE(0x3e, 24);
  header.writeUInt16LE(version, 26);
  header.writeUInt16LE(0xfffe, 28);
  header.writeUInt16LE(version === 4 ? 12 : 9, 30);
  header.writeUInt16LE(6, 32);
  header.writeUInt32LE(version === 4 ? directory.length / S : 0, 40);
  header.writeUInt32LE(fatSectors, 44);
  header.writeUInt32LE(directoryStart, 48);
  header.writeUInt32LE(CUTOFF, 56);
  header.writeUInt32LE(miniFatStart, 60);
  header.writeUInt32LE(miniFatSectors, 64);
  header.writeUInt32LE(ENDOFCHAIN, 68);
  header.fill(0xff, 76, 512);
  for (let i = 0; i < fatSectors; i++) header.writeUInt32LE(fatStart + i, 76 + 4 * i);
  return Buffer.concat([header, ...sectors, fatBytes]);
}
