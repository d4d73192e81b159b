import type { FileFormat } from './format.js';
import { cabFormat } from './cab/cab-file.js';
import { msiFormat } from './msi/msi-file.js';
import { peFormat } from './pe/pe-file.js';
import { scriptFormats } from './script/script-file.js';

/** Formats in the order they are tried: by content first; scripts, told by extension only, last. */
const FORMATS: readonly FileFormat[] = [peFormat, msiFormat, cabFormat, ...scriptFormats];

/** The first bytes of a file, read once: enough for every format's `matches`, and for a PE its headers. */
export const HEAD_BYTES = 4096;

export function detectFormat(head: Buffer, name: string): FileFormat | undefined {
  return FORMATS.find((format) => format.matches(head, name));
}

export function supportedFormats(): string {
  return FORMATS.map((f) => f.name).join(', ');
}
