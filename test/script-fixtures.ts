import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as asn1js from 'asn1js';

/**
 * Script fixtures in every encoding and line-ending form, and what Windows signs in them, computed
 * here from jsign's rules (SignableScript, WSHScript, Windows1252Extended) with Node's UTF-8 decoder
 * and a Windows-1252 table of our own: no product code.
 */

export const POWERSHELL = ['.ps1', '.psm1', '.psd1'];
export const POWERSHELL_XML = ['.ps1xml', '.psc1', '.cdxml'];
export const WSH = ['.js', '.jse', '.vbs', '.vbe', '.wsf'];
export const EXTENSIONS = [...POWERSHELL, ...POWERSHELL_XML, ...WSH];

export type Encoding = 'utf8' | 'utf8-bom' | 'utf16le-bom';
export const ENCODINGS: Encoding[] = ['utf8', 'utf8-bom', 'utf16le-bom'];
export type LineEnding = 'crlf' | 'lf' | 'mixed' | 'no-final-newline';
export const LINE_ENDINGS: LineEnding[] = ['crlf', 'lf', 'mixed', 'no-final-newline'];

/** Markers and SIP per extension, as jsign writes them (the PowerShell GUID as osslsigncode too). */
export interface Markers {
  readonly begin: string;
  readonly end: string;
  readonly prefix: string;
  readonly suffix: string;
  readonly sip: string;
  readonly version: number;
}

export function markersOf(extension: string): Markers {
  const powershell = { version: 65536, sip: '1fcc3b60594b084eb724d2c6297ef351' };
  const wsh = (begin: string, end: string, prefix: string, sip: string): Markers => ({
    begin,
    end,
    prefix,
    suffix: '',
    sip,
    version: 1,
  });
  if (POWERSHELL.includes(extension))
    return {
      begin: '# SIG # Begin signature block',
      end: '# SIG # End signature block',
      prefix: '# ',
      suffix: '',
      ...powershell,
    };
  if (POWERSHELL_XML.includes(extension))
    return {
      begin: '<!-- SIG # Begin signature block -->',
      end: '<!-- SIG # End signature block -->',
      prefix: '<!-- ',
      suffix: ' -->',
      ...powershell,
    };
  if (extension === '.js' || extension === '.jse')
    return wsh(
      '// SIG // Begin signature block',
      '// SIG // End signature block',
      '// SIG // ',
      '10e0c906ce38d411a2a300104bd35090',
    );
  if (extension === '.vbs' || extension === '.vbe')
    return wsh(
      "'' SIG '' Begin signature block",
      "'' SIG '' End signature block",
      "'' SIG '' ",
      '4ef029169927b54d8fe5ace10f17ebab',
    );
  return wsh('<signature>', '</signature>', '** SIG ** ', '7005611ace38d411a2a300104bd35090');
}

/**
 * A few lines of each language, with text outside ASCII (é, €, ö) so that the decoding matters, some
 * of it in the first 32 bytes: there PowerShell's test finds UTF-8 in a file without BOM.
 */
function linesOf(extension: string): string[] {
  if (POWERSHELL.includes(extension))
    return ['# Café: naïve résumé €5', 'param([string]$Name = "Wörld")', 'Write-Output "Hello, $Name"'];
  if (POWERSHELL_XML.includes(extension))
    return ['<!-- Café €5 -->', '<Configuration>', '  <Name>Wörld</Name>', '</Configuration>'];
  if (extension === '.vbs' || extension === '.vbe')
    return ["' Café €5", 'Dim name : name = "Wörld"', 'WScript.Echo "Hello, " & name'];
  if (extension === '.wsf')
    return [
      '<package>',
      '  <job id="hello">',
      '    <script language="JScript">WScript.Echo("Café €5 Wörld");</script>',
      '  </job>',
      '</package>',
    ];
  return ['// Café €5', 'var name = "Wörld";', 'WScript.Echo("Hello, " + name);'];
}

export function scriptText(extension: string, ending: LineEnding): string {
  const lines = linesOf(extension);
  switch (ending) {
    case 'crlf':
      return lines.map((l) => `${l}\r\n`).join('');
    case 'lf':
      return lines.map((l) => `${l}\n`).join('');
    case 'mixed':
      return lines.map((l, i) => `${l}${i % 2 ? '\n' : '\r\n'}`).join('');
    case 'no-final-newline':
      return lines.join('\r\n');
  }
}

export function encodeText(text: string, encoding: Encoding): Buffer {
  if (encoding === 'utf8') return Buffer.from(text, 'utf8');
  if (encoding === 'utf8-bom')
    return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

export interface ScriptFixture {
  readonly path: string;
  readonly extension: string;
  readonly encoding: Encoding;
  readonly ending: LineEnding;
  readonly bytes: Buffer;
}

/** Writes every extension × encoding × line ending into `dir`. */
export async function writeScriptMatrix(dir: string, extensions = EXTENSIONS): Promise<ScriptFixture[]> {
  const fixtures: ScriptFixture[] = [];
  for (const extension of extensions)
    for (const encoding of ENCODINGS)
      for (const ending of LINE_ENDINGS) {
        const path = join(dir, `${encoding}-${ending}${extension}`);
        const bytes = encodeText(scriptText(extension, ending), encoding);
        await writeFile(path, bytes);
        fixtures.push({ path, extension, encoding, ending, bytes });
      }
  return fixtures;
}

/**
 * Windows-1252 as Windows reads scripts: the five bytes it leaves undefined (0x81, 0x8D, 0x8F, 0x90,
 * 0x9D) read as themselves. (Node's TextDecoder('windows-1252') reads 0x80–0x9F as ISO-8859-1.)
 */
const WINDOWS_1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
const windows1252 = (bytes: Buffer) =>
  [...bytes.toString('latin1')]
    .map((c) => (c >= '\x80' && c < '\xa0' ? WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80] : c))
    .join('');

/**
 * What Windows hashes for an unsigned script, by jsign's rules: the text as UTF-16LE (PowerShell with
 * its BOM as U+FEFF); for Windows Script Host without the BOM, followed by the position of the block
 * (end of text, or a .wsf's last `</job>`) in UTF-16 units as 4 bytes little-endian. Without a BOM,
 * PowerShell files (these, with UTF-8 in their first 32 bytes) and .wsf are read as UTF-8, .js and
 * .vbs as Windows-1252.
 */
export function expectedDigest(bytes: Buffer, extension: string, hash = 'sha256'): Buffer {
  let bom = '';
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    bom = '\ufeff';
    text = new TextDecoder('utf-16le').decode(bytes.subarray(2));
  } else if (bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))) {
    bom = '\ufeff';
    text = new TextDecoder('utf-8').decode(bytes.subarray(3));
  } else {
    const utf8 = !WSH.includes(extension) || extension === '.wsf';
    text = utf8 ? new TextDecoder('utf-8').decode(bytes) : windows1252(bytes);
  }
  const hasher = createHash(hash);
  if (!WSH.includes(extension)) return hasher.update(Buffer.from(bom + text, 'utf16le')).digest();
  hasher.update(Buffer.from(text, 'utf16le'));
  const position = Buffer.alloc(4);
  position.writeUInt32LE(extension === '.wsf' ? text.lastIndexOf('</job>') : text.length);
  return hasher.update(position).digest();
}

export interface ScriptSignatureParts {
  /** DER of the PKCS#7 ContentInfo the block carries. */
  readonly der: Buffer;
  readonly digest: Buffer;
  readonly sipVersion: number;
  readonly sipGuid: string;
  /** The signed file with the block (and its leading CRLF) cut out. */
  readonly withoutBlock: Buffer;
  readonly blockCount: number;
}

/** Reads a block as written (CRLF lines) from a signed file's text, independently of the product. */
export function readScriptSignature(signed: Buffer, extension: string): ScriptSignatureParts {
  const utf16 = signed[0] === 0xff && signed[1] === 0xfe;
  const bom = utf16 ? 2 : signed.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])) ? 3 : 0;
  const text = utf16 ? signed.toString('utf16le', 2) : signed.toString('latin1', bom);
  const { begin, end, prefix, suffix } = markersOf(extension);
  const from = text.indexOf(`\r\n${begin}\r\n`);
  const to = text.indexOf(`\r\n${end}\r\n`, from) + end.length + 4;
  if (from < 0 || to < from) throw new Error(`no signature block in ${extension} file`);
  const base64 = text
    .slice(from, to)
    .split('\r\n')
    .slice(2, -2)
    .map((line) => line.slice(prefix.length, line.length - suffix.length))
    .join('');
  const der = Buffer.from(base64, 'base64');
  const unit = utf16 ? 2 : 1;
  const withoutBlock = Buffer.concat([
    signed.subarray(0, bom + from * unit),
    signed.subarray(bom + to * unit),
  ]);
  // ContentInfo → [0] SignedData → encapContentInfo → [0] SpcIndirectDataContent.
  const signedData = (asn1js.fromBER(der).result as asn1js.Sequence).valueBlock
    .value[1] as asn1js.Constructed;
  const encap = (signedData.valueBlock.value[0] as asn1js.Sequence).valueBlock.value[2] as asn1js.Sequence;
  const indirect = (encap.valueBlock.value[1] as asn1js.Constructed).valueBlock.value[0] as asn1js.Sequence;
  const [data, digestInfo] = indirect.valueBlock.value as asn1js.Sequence[];
  const sipInfo = (data.valueBlock.value[1] as asn1js.Sequence).valueBlock.value;
  return {
    der,
    digest: Buffer.from((digestInfo.valueBlock.value[1] as asn1js.OctetString).valueBlock.valueHexView),
    sipVersion: (sipInfo[0] as asn1js.Integer).valueBlock.valueDec,
    sipGuid: Buffer.from((sipInfo[1] as asn1js.OctetString).valueBlock.valueHexView).toString('hex'),
    withoutBlock,
    blockCount: text.split(begin).length - 1,
  };
}
