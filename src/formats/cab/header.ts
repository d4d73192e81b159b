import type { FileHandle } from 'node:fs/promises';
import { UserError } from '../../errors.js';
import { readFully } from '../../io/exact-io.js';

/** CFHEADER fields (little endian), [MS-CAB] 2.2. */
const CB_CABINET = 8;
const COFF_FILES = 16;
const VERSION_MINOR = 24;
const VERSION_MAJOR = 25;
const C_FOLDERS = 26;
const FLAGS = 30;
const I_CABINET = 34;
/** With FLAG_RESERVE_PRESENT: cbCFHeader (u16), cbCFFolder (u8), cbCFData (u8), then abReserve. */
const CB_CF_HEADER = 36;
const CB_CF_FOLDER = 38;
const CB_CF_DATA = 39;
/** The Authenticode record in abReserve: u16 0, u16 16, u32 signature offset, u32 length, 8 filler bytes. */
export const RESERVE_SIZES = 40;
export const SIGNATURE_OFFSET = 44;
export const SIGNATURE_LENGTH = 48;
const FILLER = 52;

const FLAG_PREV_CABINET = 0x0001;
const FLAG_NEXT_CABINET = 0x0002;
export const FLAG_RESERVE_PRESENT = 0x0004;

/** The fixed header without a reserve, and with the 20-byte signature reserve signing puts in. */
export const PLAIN_HEADER_BYTES = 36;
export const SIGNED_HEADER_BYTES = 60;
/** The reserve's 20 bytes and the 4 that give its size: what signing an unsigned cabinet inserts. */
export const RESERVE_INSERT = SIGNED_HEADER_BYTES - PLAIN_HEADER_BYTES;
const SIGNATURE_RESERVE = 20;
/** u16 0 (no data of its own), u16 16 (the record's size), read as one u32. */
export const RESERVE_RECORD = 0x00100000;
export const FOLDER_BYTES = 8;
/** szCabinetNext and szDiskNext: at most 255 bytes each, then NUL. */
const NAME_LIMIT = 256;

export interface CabHeader {
  /** The file's bytes [0, foldersEnd): fixed header, optional names, CFFOLDER entries. */
  readonly bytes: Buffer;
  readonly flags: number;
  /** cbCabinet: where the cabinet's data ends (and a signature starts). */
  readonly cabinetEnd: number;
  /** Offset of the first CFFOLDER entry. */
  readonly foldersStart: number;
  /** coffFiles: the first CFFILE entry, right after the CFFOLDER entries. */
  readonly foldersEnd: number;
  readonly folderCount: number;
  /** The header already has the 20-byte signature reserve. */
  readonly hasReserve: boolean;
  /** Where the reserve says the signature is (undefined: no signature). */
  readonly signature?: { readonly offset: number; readonly length: number };
}

function refuse(problem: string): never {
  throw new UserError(problem);
}

const DAMAGED = 'the cabinet is damaged: rebuild it, or copy it again from its source';

/** The reserve of a cabinet that carries (or is ready for) an Authenticode signature; anything else is refused. */
function readReserve(bytes: Buffer, fileSize: number): { offset: number; length: number } | undefined {
  if (fileSize < SIGNED_HEADER_BYTES)
    refuse(`the file is cut off inside its cabinet header (${fileSize} bytes); ${DAMAGED}`);
  const reserveSize = bytes.readUInt16LE(CB_CF_HEADER);
  if (reserveSize !== SIGNATURE_RESERVE)
    refuse(
      `its header reserve is ${reserveSize} bytes (cbCFHeader), not the ${SIGNATURE_RESERVE} bytes of a signature reserve: ` +
        'the reserve holds other data, which signing would overwrite; build the cabinet without a header reserve',
    );
  if (bytes[CB_CF_FOLDER] !== 0 || bytes[CB_CF_DATA] !== 0)
    refuse(
      `it reserves bytes in every folder (cbCFFolder ${bytes[CB_CF_FOLDER]}) or data block (cbCFData ${bytes[CB_CF_DATA]}), ` +
        'which no signed cabinet does; build the cabinet without reserves',
    );
  // All zeros: a reserve whose signature was removed (jsign leaves it so); signing fills it in.
  if (bytes.subarray(RESERVE_SIZES, SIGNED_HEADER_BYTES).every((b) => b === 0)) return undefined;
  if (bytes.readUInt32LE(RESERVE_SIZES) !== RESERVE_RECORD)
    refuse(
      'its header reserve does not hold a signature record (0x00100000 at offset 40): the reserve holds other data; build the cabinet without a header reserve',
    );
  if (!bytes.subarray(FILLER, SIGNED_HEADER_BYTES).every((b) => b === 0))
    refuse(
      'bytes 52-59 of its signature record are not zero: no signature would cover them; re-sign a clean build of the cabinet',
    );
  const offset = bytes.readUInt32LE(SIGNATURE_OFFSET);
  const length = bytes.readUInt32LE(SIGNATURE_LENGTH);
  if (offset === 0 && length === 0) return undefined;
  if (offset === 0 || length === 0)
    refuse(`its signature record is half empty (offset ${offset}, length ${length}); ${DAMAGED}`);
  return { offset, length };
}

/** Where the NUL-terminated string at `start` ends (after its NUL). */
function nameEnd(bytes: Buffer, start: number, what: string): number {
  const nul = bytes.subarray(start, start + NAME_LIMIT).indexOf(0);
  if (nul < 0) refuse(`the ${what} in its header is not NUL-terminated within 255 bytes; ${DAMAGED}`);
  return start + nul + 1;
}

/** Checks that cbCabinet (and the signature record) describe exactly the bytes the file holds. */
function checkExtent(cabinetEnd: number, fileSize: number, signature: CabHeader['signature']): void {
  if (!signature) {
    if (cabinetEnd > fileSize)
      refuse(
        `its header says the cabinet is ${cabinetEnd} bytes (cbCabinet) but the file has only ${fileSize}: it was cut off; copy it again from its source`,
      );
    if (cabinetEnd < fileSize)
      refuse(
        `its header says the cabinet is ${cabinetEnd} bytes (cbCabinet) but the file has ${fileSize}: ${fileSize - cabinetEnd} bytes after the cabinet would not be signed; remove them or rebuild the cabinet`,
      );
    return;
  }
  if (signature.offset !== cabinetEnd)
    refuse(
      `its signature record puts the signature at offset ${signature.offset}, not at the end of the cabinet data (cbCabinet ${cabinetEnd}); ${DAMAGED}`,
    );
  if (signature.offset + signature.length !== fileSize)
    refuse(
      `its signature (${signature.length} bytes at offset ${signature.offset}) does not end where the file does (${fileSize} bytes): the file was cut off or has bytes appended; copy it again from its source`,
    );
}

/**
 * Reads and checks the header of the cabinet in `handle` (its first bytes in `head`): one cabinet
 * (not a later part of a set), cbCabinet equal to the data present, the CFFOLDER entries right
 * before coffFiles, each folder's data inside the cabinet, and either no reserve or exactly the
 * 20-byte signature reserve that osslsigncode, jsign and signtool write.
 */
export async function readCabHeader(handle: FileHandle, fileSize: number, head: Buffer): Promise<CabHeader> {
  if (fileSize < PLAIN_HEADER_BYTES)
    refuse(
      `the file is too short for a cabinet (${fileSize} bytes; the header alone is ${PLAIN_HEADER_BYTES}); ${DAMAGED}`,
    );
  const flags = head.readUInt16LE(FLAGS);
  if (head.readUInt32LE(4) !== 0) refuse(`its header's reserved1 field is not zero; ${DAMAGED}`);
  if (head[VERSION_MAJOR] !== 1 || head[VERSION_MINOR] !== 3)
    refuse(
      `it is cabinet format version ${head[VERSION_MAJOR]}.${head[VERSION_MINOR]}, not 1.3 (the only one Windows defines)`,
    );
  const unknown = flags & ~(FLAG_PREV_CABINET | FLAG_NEXT_CABINET | FLAG_RESERVE_PRESENT);
  if (unknown) refuse(`its header has unknown flags (0x${unknown.toString(16)}); ${DAMAGED}`);
  if (flags & FLAG_PREV_CABINET || head.readUInt16LE(I_CABINET) !== 0)
    refuse(
      `it is a later part of a multi-cabinet set (it continues a previous cabinet), which cannot be signed; build the files into one cabinet`,
    );

  const hasReserve = (flags & FLAG_RESERVE_PRESENT) !== 0;
  const signature = hasReserve ? readReserve(head, fileSize) : undefined;
  const cabinetEnd = head.readUInt32LE(CB_CABINET);
  checkExtent(cabinetEnd, fileSize, signature);

  // The optional names follow the fixed header (and its reserve); the CFFOLDER entries follow them.
  let foldersStart = hasReserve ? SIGNED_HEADER_BYTES : PLAIN_HEADER_BYTES;
  if (flags & FLAG_NEXT_CABINET) {
    foldersStart = nameEnd(head, foldersStart, 'next cabinet name');
    foldersStart = nameEnd(head, foldersStart, 'next disk name');
  }
  const folderCount = head.readUInt16LE(C_FOLDERS);
  const foldersEnd = foldersStart + folderCount * FOLDER_BYTES;
  const coffFiles = head.readUInt32LE(COFF_FILES);
  if (coffFiles > cabinetEnd)
    refuse(
      `its file entries start at offset ${coffFiles} (coffFiles), past the end of the cabinet (${cabinetEnd}); ${DAMAGED}`,
    );
  if (coffFiles !== foldersEnd)
    refuse(
      `its file entries start at offset ${coffFiles} (coffFiles), not right after its ${folderCount} folder entries (${foldersEnd}); ${DAMAGED}`,
    );

  const bytes =
    foldersEnd <= head.length ? head.subarray(0, foldersEnd) : await readFully(handle, foldersEnd, 0);
  if (!bytes) throw new Error('the file changed while being read (its header ended early)');
  for (let i = 0; i < folderCount; i++) {
    const start = bytes.readUInt32LE(foldersStart + i * FOLDER_BYTES);
    if (start < foldersEnd || start > cabinetEnd)
      refuse(
        `folder ${i + 1}'s data starts at offset ${start} (coffCabStart), outside the cabinet's data (${foldersEnd}-${cabinetEnd}); ${DAMAGED}`,
      );
  }
  return {
    bytes: Buffer.from(bytes),
    flags,
    cabinetEnd,
    foldersStart,
    foldersEnd,
    folderCount,
    hasReserve,
    signature,
  };
}
