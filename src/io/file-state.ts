import type { Stats } from 'node:fs';

/** What identifies a file's content cheaply: which file it is, its size and when it was last written. */
export interface FileState {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export function fileState(stats: Stats): FileState {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
}

/** Why `now` is not the file seen as `before`, or undefined when it is the same. */
export function changeBetween(before: FileState, now: FileState): string | undefined {
  if (before.dev !== now.dev || before.ino !== now.ino) return 'it was replaced by another file';
  if (before.size !== now.size) return `its size went from ${before.size} to ${now.size} bytes`;
  if (before.mtimeMs !== now.mtimeMs) return 'it was written to';
  return undefined;
}
