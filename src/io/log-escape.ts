/**
 * Text from outside (file names, library and server messages) made safe to print. The GitHub runner
 * reads a log line as a workflow command when it starts with "::" (after spaces) and, in the legacy
 * form, wherever "##[" appears in it; a file name with a newline could otherwise add a mask, an
 * annotation or an output.
 */

/** C0 and C1 control characters (not tab) and DEL: they would break a line or drive a terminal. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

const percent = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/** `%` and control characters as %XX, like @actions/core escapes command data: the text stays on one line. */
export function visible(text: string): string {
  return text.replace(/%/g, '%25').replace(CONTROL, percent);
}

/** One line of the Actions log that the runner cannot take for a workflow command. */
export function logLine(text: string): string {
  return visible(text)
    .replace(/^(\s*)::/, '$1%3A:')
    .replace(/##\[/g, '##%5B');
}

/** Text that keeps its own line breaks, each line made safe as logLine does. */
export function logLines(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => logLine(line))
    .join('\n');
}

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML cell of the job summary: markup shown as text, on one line. */
export function htmlText(text: string): string {
  return visible(text).replace(/[&<>"']/g, (c) => HTML[c]);
}
