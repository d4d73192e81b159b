import type { FileResult } from './sign-files.js';

/** "signed 120/2000, 3 failed, 41 s": where a run stands. */
export function progressText(
  done: number,
  total: number,
  failed: number,
  elapsedMs: number,
  verb = 'signed',
): string {
  return `${verb} ${done}/${total}, ${failed} failed, ${Math.round(elapsedMs / 1000)} s`;
}

export interface ProgressOptions {
  readonly total: number;
  /** Milliseconds since some fixed point; injected so tests control time. */
  readonly now: () => number;
  /** Receives each progress text when one is due. */
  readonly show: (text: string) => void;
  /** Every result shown (a live terminal line) rather than every ~10 s or 10 % (log lines). */
  readonly live?: boolean;
  /** Nothing is shown before this: short runs stay quiet. */
  readonly quietMs?: number;
  readonly everyMs?: number;
  /** "checked" in a dry run, which signs nothing. */
  readonly verb?: string;
}

/**
 * Counts finished files, fed by the reporter's fileDone. Log lines come at most every `everyMs` or
 * each further 10 % of the files, once the run is older than `quietMs` — never once per file.
 */
export function progress(options: ProgressOptions): (result: FileResult) => void {
  const { total, now, show, live = false, quietMs = 5000, everyMs = 10_000, verb } = options;
  const start = now();
  let done = 0;
  let failed = 0;
  let lastShownAt = start;
  let lastShownDone = 0;
  return (result) => {
    done++;
    if (result.status === 'failed') failed++;
    const t = now();
    if (t - start < quietMs) return;
    const due =
      live ||
      t - lastShownAt >= everyMs ||
      Math.floor((done * 10) / total) > Math.floor((lastShownDone * 10) / total);
    if (!due) return;
    lastShownAt = t;
    lastShownDone = done;
    show(progressText(done, total, failed, t - start, verb));
  };
}
