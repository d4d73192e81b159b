import { peFormat } from './pe/pe-file.js';
/** Formats in the order they are tried; each recognises its files by content, not by extension. */
const FORMATS = [peFormat];
/** Bytes enough for every format's `matches`. */
export const DETECTION_BYTES = 64;
export function detectFormat(head) {
    return FORMATS.find((format) => format.matches(head));
}
export function supportedFormats() {
    return FORMATS.map((f) => f.name).join(', ');
}
