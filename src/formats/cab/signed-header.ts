import type { ByteRange } from '../../io/ranges.js';
import {
  FLAG_RESERVE_PRESENT,
  FOLDER_BYTES,
  PLAIN_HEADER_BYTES,
  RESERVE_INSERT,
  RESERVE_RECORD,
  RESERVE_SIZES,
  SIGNATURE_LENGTH,
  SIGNATURE_OFFSET,
  SIGNED_HEADER_BYTES,
  type CabHeader,
} from './header.js';

/**
 * The parts of a signed cabinet's header that the digest covers (osslsigncode `cab_digest_calc`):
 * all but reserved1 (4-7), iCabinet and the reserve's sizes and signature record (34-55). jsign
 * hashes iCabinet and the reserve's first u16 instead of bytes 56-59: the same bytes, as both are
 * zero in every cabinet `readCabHeader` accepts.
 */
export function hashedHeaderRanges(headerEnd: number): ByteRange[] {
  return [
    { start: 0, end: 4 },
    { start: 8, end: 34 },
    { start: 56, end: headerEnd },
  ];
}

/**
 * The header (fixed part, names, CFFOLDER entries) as it is in the signed file, its signature record
 * saying `signatureLength` bytes at the end of the cabinet data. An unsigned cabinet gets the 20-byte
 * reserve inserted after iCabinet, as osslsigncode's `cab_add_header` does: everything after it
 * moves 24 bytes, so cbCabinet, coffFiles and each folder's coffCabStart grow by 24.
 */
export function signedHeader(header: CabHeader, signatureLength: number): Buffer {
  if (header.hasReserve) {
    const bytes = Buffer.from(header.bytes);
    bytes.writeUInt32LE(RESERVE_RECORD, RESERVE_SIZES);
    bytes.writeUInt32LE(header.cabinetEnd, SIGNATURE_OFFSET);
    bytes.writeUInt32LE(signatureLength, SIGNATURE_LENGTH);
    return bytes;
  }
  const shift = RESERVE_INSERT;
  const source = header.bytes;
  const bytes = Buffer.alloc(source.length + shift);
  source.copy(bytes, 0, 0, PLAIN_HEADER_BYTES);
  source.copy(bytes, SIGNED_HEADER_BYTES, PLAIN_HEADER_BYTES);
  bytes.writeUInt32LE(header.cabinetEnd + shift, 8);
  bytes.writeUInt32LE(header.foldersEnd + shift, 16);
  bytes.writeUInt16LE(header.flags | FLAG_RESERVE_PRESENT, 30);
  bytes.writeUInt16LE(20, 36); // cbCFHeader; cbCFFolder and cbCFData stay 0
  bytes.writeUInt32LE(RESERVE_RECORD, RESERVE_SIZES);
  bytes.writeUInt32LE(header.cabinetEnd + shift, SIGNATURE_OFFSET);
  bytes.writeUInt32LE(signatureLength, SIGNATURE_LENGTH);
  for (let i = 0; i < header.folderCount; i++) {
    const at = header.foldersStart + shift + i * FOLDER_BYTES;
    bytes.writeUInt32LE(bytes.readUInt32LE(at) + shift, at);
  }
  return bytes;
}
