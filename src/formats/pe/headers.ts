import type { FileHandle } from 'node:fs/promises';
import { UserError } from '../../errors.js';

/** Where the fields Authenticode cares about sit in a PE/COFF file, all as file offsets. */
export interface PeLayout {
  readonly fileSize: number;
  readonly peOffset: number;
  readonly pe32plus: boolean;
  /** Offset of the 4-byte CheckSum field of the optional header. */
  readonly checksumOffset: number;
  /** Offset of the 8-byte Certificate Table data directory entry. */
  readonly certDirOffset: number;
  readonly sizeOfHeaders: number;
  readonly sectionAlignment: number;
  readonly fileAlignment: number;
  readonly sections: readonly PeSection[];
  /** End of the last section's raw data: a certificate table must start at or after it. */
  readonly sectionsEnd: number;
  /** The existing certificate table, if the directory entry names one. */
  readonly certTable?: { readonly offset: number; readonly size: number };
}

export interface PeSection {
  readonly rawOffset: number;
  readonly rawSize: number;
}

const PE32_MAGIC = 0x10b;
const PE32PLUS_MAGIC = 0x20b;
const SECTION_HEADER_SIZE = 40;
const SECURITY_DIRECTORY_INDEX = 4;

/** True when the bytes start like an MZ/PE image (used to pick the format, not to validate it). */
export function looksLikePe(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x4d && head[1] === 0x5a;
}

function bad(problem: string): never {
  throw new UserError(`not a valid PE file: ${problem} (is it complete? rebuild it, or leave it out)`);
}

async function readFileAt(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, offset);
  if (bytesRead !== length) bad(`truncated at offset ${offset + bytesRead}`);
  return buffer;
}

/**
 * Reads and checks the headers; every offset it returns lies inside the file. `head` holds the file's
 * first bytes, where the headers nearly always are: only headers beyond it are read from the file.
 */
export async function readPeLayout(handle: FileHandle, fileSize: number, head: Buffer): Promise<PeLayout> {
  if (fileSize === 0) bad('the file is empty');
  if (fileSize < 64) bad(`only ${fileSize} bytes, shorter than an MS-DOS header`);
  const readAt = async (offset: number, length: number): Promise<Buffer> =>
    offset + length <= head.length
      ? head.subarray(offset, offset + length)
      : readFileAt(handle, offset, length);
  const dos = await readAt(0, 64);
  if (!looksLikePe(dos)) bad('no MZ signature');
  const peOffset = dos.readUInt32LE(0x3c);
  if (peOffset < 64 || peOffset + 24 > fileSize) {
    bad(`e_lfanew (0x${peOffset.toString(16)}) points outside the file (${fileSize} bytes)`);
  }
  const coff = await readAt(peOffset, 24);
  if (coff.readUInt32LE(0) !== 0x00004550) bad(`no PE signature at e_lfanew 0x${peOffset.toString(16)}`);
  const sectionCount = coff.readUInt16LE(6);
  const optionalSize = coff.readUInt16LE(20);
  const optionalOffset = peOffset + 24;
  if (optionalSize < 2 || optionalOffset + optionalSize > fileSize) bad('the optional header is truncated');
  const optional = await readAt(optionalOffset, optionalSize);
  const magic = optional.readUInt16LE(0);
  if (magic !== PE32_MAGIC && magic !== PE32PLUS_MAGIC) {
    bad(`unknown optional header magic 0x${magic.toString(16)} (expected 0x10b or 0x20b)`);
  }
  const pe32plus = magic === PE32PLUS_MAGIC;
  const directoriesAt = pe32plus ? 112 : 96;
  if (optionalSize < directoriesAt) bad('the optional header is too short for its data directories');
  const directoryCount = optional.readUInt32LE(directoriesAt - 4);
  if (
    directoryCount <= SECURITY_DIRECTORY_INDEX ||
    optionalSize < directoriesAt + 8 * (SECURITY_DIRECTORY_INDEX + 1)
  ) {
    bad('the optional header has no certificate table entry');
  }
  const certEntry = directoriesAt + 8 * SECURITY_DIRECTORY_INDEX;

  const sectionTableOffset = optionalOffset + optionalSize;
  const sectionTableSize = sectionCount * SECTION_HEADER_SIZE;
  if (sectionTableOffset + sectionTableSize > fileSize) bad('the section table is truncated');
  const table = await readAt(sectionTableOffset, sectionTableSize);
  const sections: PeSection[] = [];
  let sectionsEnd = sectionTableOffset + sectionTableSize;
  for (let i = 0; i < sectionCount; i++) {
    const rawSize = table.readUInt32LE(i * SECTION_HEADER_SIZE + 16);
    const rawOffset = table.readUInt32LE(i * SECTION_HEADER_SIZE + 20);
    if (rawSize === 0) continue;
    if (rawOffset + rawSize > fileSize) bad(`section ${i + 1} extends past the end of the file`);
    sections.push({ rawOffset, rawSize });
    sectionsEnd = Math.max(sectionsEnd, rawOffset + rawSize);
  }

  const certOffset = optional.readUInt32LE(certEntry);
  const certSize = optional.readUInt32LE(certEntry + 4);
  let certTable: PeLayout['certTable'];
  if (certOffset !== 0 || certSize !== 0) {
    if (certOffset + certSize > fileSize || certSize < 8) {
      bad(
        `the certificate table (offset ${certOffset}, ${certSize} bytes) points outside the file (${fileSize} bytes)`,
      );
    }
    if (certOffset < sectionsEnd) {
      bad(
        `the certificate table (offset ${certOffset}) overlaps the headers or sections (which end at ${sectionsEnd})`,
      );
    }
    // Data after the table would be outside every signature's digest (the trick behind CVE-2013-3900).
    if (certOffset + certSize !== fileSize) {
      bad(`${fileSize - certOffset - certSize} bytes follow the certificate table, outside the signed data`);
    }
    certTable = { offset: certOffset, size: certSize };
  }

  return {
    fileSize,
    peOffset,
    pe32plus,
    checksumOffset: optionalOffset + 64,
    certDirOffset: optionalOffset + certEntry,
    sizeOfHeaders: optional.readUInt32LE(60),
    sectionAlignment: optional.readUInt32LE(32),
    fileAlignment: optional.readUInt32LE(36),
    sections,
    sectionsEnd,
    certTable,
  };
}
