/**
 * Reading and patching PE header fields in a buffer, for tests that build damaged or unusual files.
 * Written from the PE/COFF specification, independent of the product's parser.
 */
export interface PeFields {
  readonly peOffset: number;
  readonly checksumOffset: number;
  readonly certDirOffset: number;
  readonly sectionTable: number;
  readonly sectionCount: number;
}

export function peFields(file: Buffer): PeFields {
  const peOffset = file.readUInt32LE(0x3c);
  const optional = peOffset + 24;
  const pe32plus = file.readUInt16LE(optional) === 0x20b;
  return {
    peOffset,
    checksumOffset: optional + 64,
    certDirOffset: optional + (pe32plus ? 144 : 128),
    sectionTable: optional + file.readUInt16LE(peOffset + 20),
    sectionCount: file.readUInt16LE(peOffset + 6),
  };
}

/** The PE checksum: 16-bit words summed with carry folding (CheckSum counted as zero), plus the length. */
export function fixChecksum(file: Buffer): void {
  const { checksumOffset } = peFields(file);
  file.writeUInt32LE(0, checksumOffset);
  let sum = 0;
  for (let i = 0; i + 1 < file.length; i += 2) {
    sum += file.readUInt16LE(i);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (file.length % 2) sum += file[file.length - 1];
  sum = (sum & 0xffff) + (sum >>> 16);
  file.writeUInt32LE((sum + file.length) >>> 0, checksumOffset);
}

/** Offset and size of the certificate table, from its directory entry. */
export function certificateTable(file: Buffer): { offset: number; size: number } {
  const { certDirOffset } = peFields(file);
  return { offset: file.readUInt32LE(certDirOffset), size: file.readUInt32LE(certDirOffset + 4) };
}

/** `file` with its certificate table replaced by `table` (directory entry and checksum updated). */
export function withCertificateTable(file: Buffer, table: Buffer): Buffer {
  const { offset } = certificateTable(file);
  const out = Buffer.concat([file.subarray(0, offset), table]);
  out.writeUInt32LE(table.length, peFields(out).certDirOffset + 4);
  fixChecksum(out);
  return out;
}
