import type { FileFormat } from './format.js';
import { peFormat } from './pe/pe-file.js';

/** Formats in the order they are tried; each recognises its files by content, not by extension. */
const FORMATS: readonly FileFormat[] = [peFormat];

/** Bytes enough for every format's `matches`. */
export const DETECTION_BYTES = 64;

export function detectFormat(head: Buffer): FileFormat | undefined {
  return FORMATS.find((format) => format.matches(head));
}

export function supportedFormats(): string {
  return FORMATS.map((f) => f.name).join(', ');
}
