/** Where a command's lines go. */
export interface Console {
  out(line: string): void;
  err(line: string): void;
}

/** lines: every line; quiet: failures and totals; json: JSON records on stdout, the rest on stderr. */
export type Output = 'lines' | 'quiet' | 'json';

export interface Terminal {
  /** Lines made safe to print. */
  readonly io: Console;
  readonly output: Output;
  /** Standard output as is, for JSON lines (already free of anything a log could act on). */
  readonly stdout: (line: string) => void;
}
