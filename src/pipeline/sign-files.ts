import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { messageOf, UserError } from '../errors.js';
import { lockFile, removeLeftTakeovers } from '../io/file-lock.js';
import { EditFailed } from '../io/in-place-edit.js';
import { recoverFile } from '../io/journal.js';
import { findLeftBehind, type LeftBehind } from '../io/left-behind.js';
import { removeLeftNewFiles } from '../io/replace-file.js';
import { isSidecarFile } from '../io/sidecar-files.js';
import type { Signer } from '../signers/signer.js';
import { mapWithLimit } from './pool.js';
import { signFile, type SignOutcome, type SignSettings, type SigningCertificate } from './sign-file.js';

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
  /** Its format, when the file could be opened as one. */
  readonly format?: string;
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
/** The path with links resolved, or as given when it cannot be (a missing file is reported later). */
function realPathOr(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

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
  // A dry run writes nothing, not even a lock: it reads the files as they are.
  const left = dryRun ? new Map<string, LeftBehind>() : await findLeftBehind(unique);
  // The file's lock is held from before it is read until it is written: one signer per file at a time,
  // and what a stopped run left (a journal to apply back, a half-written new version) is dealt with first.
  const signLocked = async (path: string): Promise<SignOutcome> => {
    if (isSidecarFile(path)) {
      throw new UserError(
        'is a journal or lock file vaultsign keeps beside a file while signing it, not a file to sign; leave it out of the file list',
      );
    }
    if (dryRun) return signFile(path, signer, settings, { signal, dryRun });
    // Locked by its real path: a run that names it through a symbolic link meets the same lock.
    const lock = await lockFile(realPathOr(path));
    try {
      const found = left.get(resolve(path));
      await recoverFile(path, found?.journals ?? []);
      await removeLeftNewFiles(found?.newFiles ?? []);
      await removeLeftTakeovers(found?.takeovers ?? []);
      return await signFile(path, signer, settings, { signal });
    } finally {
      await lock.release();
    }
  };
  const stopped = (when: string) => `not signed, unchanged: ${stopReason(signal!)} ${when}`;
  return mapWithLimit(unique, limits.concurrency, async (path) => {
    const started = performance.now();
    let result: FileResult;
    if (signal?.aborted) {
      result = { path, status: 'failed', detail: stopped('before it started'), durationMs: 0 };
    } else {
      try {
        const outcome = await signLocked(path);
        result = { path, ...outcome, durationMs: performance.now() - started };
      } catch (error) {
        // A write that failed says what became of the file, whatever stopped the run meanwhile.
        const detail =
          signal?.aborted && !(error instanceof EditFailed)
            ? stopped('while it was being signed')
            : failure(error);
        result = { path, status: 'failed', detail, durationMs: performance.now() - started };
      }
    }
    onResult(result);
    return result;
  });
}
