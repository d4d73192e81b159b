import { resolve } from 'node:path';
import { UserError, messageOf } from '../errors.js';
import { recoverJournals } from '../io/in-place-edit.js';
import type { Signer } from '../signers/signer.js';
import { mapWithLimit } from './pool.js';
import { signFile, type SignSettings, type SigningCertificate } from './sign-file.js';

export interface FileResult {
  readonly path: string;
  readonly status: 'signed' | 'skipped' | 'would-sign' | 'failed';
  readonly detail: string;
  readonly timestamp?: Date;
  /** The certificate of the new signature (signed files). */
  readonly certificate?: SigningCertificate;
  readonly durationMs: number;
  /** Bytes before signing, when the file could be opened. */
  readonly size?: number;
}

export interface RunLimits {
  readonly concurrency: number;
  /**
   * Aborts the run: files not yet written stay as they were and are reported so. Its reason, a
   * UserError, says why (e.g. "the 600 s timeout ran out").
   */
  readonly signal?: AbortSignal;
  readonly dryRun?: boolean;
}

/** Why `signal` stopped the run, in words. */
export function stopReason(signal: AbortSignal): string {
  return signal.reason instanceof UserError ? signal.reason.message : 'the run was stopped';
}

/**
 * Why a file failed, as a sentence for the user: our own errors say it already; an OS error names the
 * operation; anything else (a library's "Object's schema was not verified…") is a bug to report.
 */
function failure(error: unknown): string {
  if (error instanceof UserError) return error.message;
  if (typeof (error as NodeJS.ErrnoException)?.code === 'string') return messageOf(error);
  return `unexpected error while signing it: ${messageOf(error)}; please report it (the message and the file's kind)`;
}

/** Signs every file, at most `concurrency` at once; one file's failure never stops the others. */
export async function signFiles(
  paths: readonly string[],
  signer: Signer,
  settings: SignSettings,
  limits: RunLimits,
  onResult: (result: FileResult) => void = () => undefined,
): Promise<FileResult[]> {
  // The same file named twice (a.exe, ./a.exe) is signed once.
  const unique = [...new Map(paths.map((p) => [resolve(p), p])).values()];
  const { signal, dryRun } = limits;
  if (!dryRun) await recoverJournals(unique);
  const stopped = (when: string) => `not signed, unchanged: ${stopReason(signal!)} ${when}`;
  return mapWithLimit(unique, limits.concurrency, async (path) => {
    const started = performance.now();
    let result: FileResult;
    if (signal?.aborted) {
      result = { path, status: 'failed', detail: stopped('before it started'), durationMs: 0 };
    } else {
      try {
        const outcome = await signFile(path, signer, settings, { signal, dryRun });
        result = { path, ...outcome, durationMs: performance.now() - started };
      } catch (error) {
        const detail = signal?.aborted ? stopped('while it was being signed') : failure(error);
        result = { path, status: 'failed', detail, durationMs: performance.now() - started };
      }
    }
    onResult(result);
    return result;
  });
}
