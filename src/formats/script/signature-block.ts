import { UserError } from '../../errors.js';
import type { ScriptKind } from './script-kinds.js';

/** A signature block found in a script's text; positions are in `ScriptText.units`. */
export interface SignatureBlock {
  /** At the line break before the block's first line, which jsign and osslsigncode leave out of the hash too. */
  readonly start: number;
  /** Just past the line break of the block's last line. */
  readonly end: number;
  /** The DER PKCS#7 its lines carry. */
  readonly der: Buffer;
}

interface Line {
  readonly text: string;
  /** Where the next line starts; undefined when this one ends the file without a line break. */
  readonly next: number | undefined;
}

function lineAt(units: string, at: number): Line {
  const lf = units.indexOf('\n', at);
  if (lf < 0) return { text: units.slice(at), next: undefined };
  return { text: units.slice(at, units[lf - 1] === '\r' ? lf - 1 : lf), next: lf + 1 };
}

/** The first line of `units` that starts with the block's first line, as jsign and osslsigncode find it. */
function firstLineStarting(units: string, begin: string): number | undefined {
  for (let at = units.indexOf(begin); at >= 0; at = units.indexOf(begin, at + 1)) {
    if (at === 0 || units[at - 1] === '\n') return at;
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function strictBase64(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Node decodes leniently: only text that is exactly the encoding of its bytes counts.
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * The script's signature block, read strictly: its first line alone on its line, then only base64
 * lines in the kind's comment syntax, then its last line, then the end of the file (or, in a .wsf,
 * the last `</job>`). Anything else is refused: a block read loosely could be signed over or kept
 * half, and the user would not know which.
 */
export function findSignatureBlock(units: string, kind: ScriptKind): SignatureBlock | undefined {
  const at = firstLineStarting(units, kind.begin);
  if (at === undefined) return undefined;
  const broken = (what: string) => {
    const line = units.slice(0, at).split('\n').length;
    return new UserError(
      `its signature block (line ${line}, "${kind.begin}") is broken: ${what}; remove the block, from that line to "${kind.end}", and sign again`,
    );
  };

  if (at === 0) throw broken('it starts the file, and osslsigncode looks for a block only after the text');
  const first = lineAt(units, at);
  if (first.text !== kind.begin) throw broken('its first line has more text after it');
  // osslsigncode cuts the line break before the block as long as the one ending its first line, jsign
  // as long as it is: where the two differ, so would what they sign.
  if (first.next !== undefined && (units[at - 2] === '\r') !== (units[first.next - 2] === '\r'))
    throw broken('the line break before it and the one ending its first line differ (CR LF and LF)');
  let base64 = '';
  let next = first.next;
  for (let n = 2; ; n++) {
    if (next === undefined) throw broken(`it has no last line "${kind.end}"`);
    const line = lineAt(units, next);
    if (line.text === kind.end) {
      next = line.next ?? units.length;
      break;
    }
    const { linePrefix: prefix, lineSuffix: suffix } = kind;
    const body = line.text.slice(prefix.length, line.text.length - suffix.length);
    const inSyntax =
      line.text.length >= prefix.length + suffix.length &&
      line.text.startsWith(prefix) &&
      line.text.endsWith(suffix) &&
      /^[A-Za-z0-9+/=]+$/.test(body);
    if (!inSyntax)
      throw broken(
        `its line ${n} is neither base64 between "${prefix}" and "${suffix || 'the line end'}" nor its last line`,
      );
    base64 += body;
    next = line.next;
  }
  const der = strictBase64(base64);
  if (!der) throw broken('its lines are not valid base64');

  const start = units[at - 2] === '\r' ? at - 2 : at - 1;
  const after = units.slice(next);
  if (kind.insertBefore) {
    const rest = units.slice(0, start) + after;
    if (!after.startsWith(kind.insertBefore) || rest.lastIndexOf(kind.insertBefore) !== start)
      throw broken(`it is not right before the last ${kind.insertBefore}, where Windows looks for it`);
  } else if (after.length > 0) {
    throw broken(`text follows "${kind.end}", and the block must end the file`);
  }
  return { start, end: next, der };
}

/** The block written for `der`: CRLF line breaks, the first one before it, 64 base64 characters a line (as signtool, jsign, osslsigncode). */
export function signatureBlockText(der: Buffer, kind: ScriptKind): string {
  const base64 = der.toString('base64');
  const lines = [kind.begin];
  for (let i = 0; i < base64.length; i += 64)
    lines.push(kind.linePrefix + base64.slice(i, i + 64) + kind.lineSuffix);
  lines.push(kind.end);
  return lines.map((line) => `\r\n${line}`).join('') + '\r\n';
}
