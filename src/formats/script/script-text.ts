import { UserError } from '../../errors.js';
import type { ScriptKind } from './script-kinds.js';

export type ScriptEncoding = 'utf-8' | 'windows-1252' | 'utf-16le';

/** A script's bytes split into its byte order mark and its text, as Windows reads them. */
export interface ScriptText {
  readonly encoding: ScriptEncoding;
  /** Length of the byte order mark (0 without one). */
  readonly bomLength: number;
  /**
   * The text after the BOM with one character per code unit of the file (a byte, or a UTF-16LE unit),
   * so that an index in it is a position in the file: the signature block's lines are ASCII and are
   * found here whatever the encoding.
   */
  readonly units: string;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const UTF16LE_BOM = Buffer.from([0xff, 0xfe]);
const UTF16BE_BOM = Buffer.from([0xfe, 0xff]);

/** Reads the encoding from the BOM, else the kind's default; refuses what Windows would read otherwise than we hash. */
export function readScriptText(bytes: Buffer, kind: ScriptKind): ScriptText {
  const starts = (bom: Buffer) => bytes.subarray(0, bom.length).equals(bom);
  if (starts(UTF16LE_BOM)) {
    if (bytes.length % 2 !== 0)
      throw new UserError(
        'it starts with a UTF-16LE byte order mark but has an odd number of bytes; save it again as UTF-16LE or UTF-8',
      );
    return { encoding: 'utf-16le', bomLength: 2, units: bytes.toString('utf16le', 2) };
  }
  if (starts(UTF16BE_BOM))
    throw new UserError(
      'it is UTF-16 big-endian, which vaultsign does not sign; save it as UTF-16LE or UTF-8',
    );
  const bomLength = starts(UTF8_BOM) ? UTF8_BOM.length : 0;
  if (!bomLength && kind.bomless === 'powershell' && !readsAsUtf8ToPowerShell(bytes))
    throw new UserError(
      "it has text outside ASCII but no byte order mark, and its first 32 bytes do not show it as UTF-8: Windows then reads it in each machine's ANSI code page, so no signature holds everywhere; save it as UTF-8 with BOM (or UTF-16LE) and sign again",
    );
  const encoding = bomLength || kind.bomless === 'powershell' ? 'utf-8' : kind.bomless;
  if (encoding === 'utf-8' && !decodesAsUtf8(bytes.subarray(bomLength)))
    throw new UserError(
      `it is read as UTF-8${bomLength ? ' (it has a UTF-8 byte order mark)' : ''} but is not valid UTF-8, so its signed text would be unclear; save it as UTF-8 or UTF-16LE with a byte order mark`,
    );
  return { encoding, bomLength, units: bytes.toString('latin1', bomLength) };
}

/**
 * Whether PowerShell reads a file without BOM as UTF-8 on every machine: it is ASCII, or its first 32
 * bytes hold a byte above 0x7F and only whole UTF-8 sequences (each lead byte's leading 1 bits count
 * its bytes, the others start with bits 10). Otherwise Windows uses the machine's ANSI code page.
 */
function readsAsUtf8ToPowerShell(bytes: Buffer): boolean {
  if (bytes.every((byte) => byte < 0x80)) return true;
  const window = bytes.subarray(0, 32);
  let extended = false;
  for (let i = 0; i < window.length;) {
    const lead = window[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    extended = true;
    let length = 0;
    while (length < 8 && (lead << length) & 0x80) length++;
    if (length < 2 || i + length > window.length) return false;
    for (let k = 1; k < length; k++) if ((window[i + k] & 0xc0) !== 0x80) return false;
    i += length;
  }
  return extended;
}

function decodesAsUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Windows-1252 with 0x81, 0x8D, 0x8F, 0x90 and 0x9D kept as themselves, as Windows reads them (jsign `Windows1252Extended`). */
const WINDOWS_1252_80_9F = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d,
  0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a,
  0x153, 0x9d, 0x17e, 0x178,
];

/** `bytes` (text in `encoding`, no BOM) as UTF-16LE, the form in which a script's text is hashed. */
export function toUtf16le(bytes: Buffer, encoding: ScriptEncoding): Buffer {
  if (encoding === 'utf-16le') return bytes;
  if (encoding === 'utf-8')
    return Buffer.from(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), 'utf16le');
  const out = Buffer.alloc(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    out.writeUInt16LE(byte >= 0x80 && byte <= 0x9f ? WINDOWS_1252_80_9F[byte - 0x80] : byte, i * 2);
  }
  return out;
}

/** ASCII `text` (a signature block) in the file's encoding. */
export function encodeAscii(text: string, encoding: ScriptEncoding): Buffer {
  return Buffer.from(text, encoding === 'utf-16le' ? 'utf16le' : 'latin1');
}

/** Bytes per character of `ScriptText.units`. */
export function unitBytes(encoding: ScriptEncoding): number {
  return encoding === 'utf-16le' ? 2 : 1;
}
