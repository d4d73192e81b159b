import type { FileFormat } from './format.js';
import { msiFormat } from './msi/msi-file.js';
import { peFormat } from './pe/pe-file.js';

/** Formats in the order they are tried; each recognises its files by content, not by extension. */
const FORMATS: readonly FileFormat[] = [peFormat, msiFormat];

/** The first bytes of a file, read once: enough for every format's `matches`, and for a PE its headers. */
export const HEAD_BYTES = 4096;

export function detectFormat(head: Buffer, name: string): FileFormat | undefined {
  return FORMATS.find((format) => format.matches(head, name));
}

export function supportedFormats(): string {
  return FORMATS.map((f) => f.name).join(', ');
}
