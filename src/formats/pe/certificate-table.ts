import { UserError } from '../../errors.js';
import { derLength } from '../../authenticode/der.js';

const REVISION_2_0 = 0x0200;
const TYPE_PKCS_SIGNED_DATA = 0x0002;

/** A WIN_CERTIFICATE entry holding `der`, padded with zeros to a multiple of 8 bytes. */
export function buildCertificateTable(der: Buffer): Buffer {
  const padded = (der.length + 8 + 7) & ~7;
  const table = Buffer.alloc(padded);
  table.writeUInt32LE(padded, 0);
  table.writeUInt16LE(REVISION_2_0, 4);
  table.writeUInt16LE(TYPE_PKCS_SIGNED_DATA, 6);
  der.copy(table, 8);
  return table;
}

function corrupt(problem: string): never {
  throw new UserError(
    `the certificate table is corrupt: ${problem} (re-sign a clean build of the file, or remove its signature)`,
  );
}

function zeros(bytes: Buffer): boolean {
  return bytes.every((b) => b === 0);
}

/**
 * The PKCS#7 signature of a certificate table, read exactly as written. As osslsigncode and Windows
 * (with the padding check of CVE-2013-3900) require: the entries, each rounded up to 8 bytes, fill the
 * table exactly; each is revision 2.0; the first is PKCS_SIGNED_DATA; after its DER only zero padding
 * (under 8 bytes) follows. Anything else would be bytes no signature covers.
 */
export function signatureFromCertificateTable(table: Buffer): Buffer {
  const entries: { start: number; end: number; type: number }[] = [];
  for (let pos = 0; pos < table.length;) {
    if (table.length - pos < 8) corrupt(`${table.length - pos} stray bytes at its end`);
    const length = table.readUInt32LE(pos);
    const revision = table.readUInt16LE(pos + 4);
    if (length < 8 || length > table.length - pos) {
      corrupt(`the entry at offset ${pos} has length ${length}, outside the table (${table.length} bytes)`);
    }
    if (revision !== REVISION_2_0) {
      corrupt(`the entry at offset ${pos} has revision 0x${revision.toString(16)} (expected 0x200)`);
    }
    const rounded = (length + 7) & ~7;
    if (rounded > table.length - pos) corrupt(`the entry at offset ${pos} is not padded to 8 bytes`);
    if (!zeros(table.subarray(pos + length, pos + rounded))) {
      corrupt(`the padding after the entry at offset ${pos} is not zero`);
    }
    entries.push({ start: pos + 8, end: pos + length, type: table.readUInt16LE(pos + 6) });
    pos += rounded;
  }
  const first = entries[0];
  if (first.type !== TYPE_PKCS_SIGNED_DATA) {
    corrupt(`its first entry has type ${first.type}, not PKCS_SIGNED_DATA (2)`);
  }
  const body = table.subarray(first.start, first.end);
  let der: number;
  try {
    der = derLength(body);
  } catch (error) {
    corrupt(`the signature cannot be read: ${(error as Error).message}`);
  }
  if (der > body.length)
    corrupt(`the signature's DER length (${der}) overruns its entry (${body.length} bytes)`);
  const rest = body.subarray(der);
  if (rest.length >= 8 || !zeros(rest)) corrupt(`${rest.length} bytes follow the signature inside its entry`);
  return body.subarray(0, der);
}
