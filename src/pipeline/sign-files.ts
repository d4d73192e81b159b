import { resolve } from 'node:path';
import { messageOf } from '../errors.js';
import { removeLeftovers } from '../io/replace-file.js';
import type { Signer } from '../signers/signer.js';
import { mapWithLimit } from './pool.js';
import { signFile, type SignSettings } from './sign-file.js';

export interface FileResult {
  readonly path: string;
  readonly status: 'signed' | 'skipped' | 'failed';
  readonly detail: string;
  readonly timestamp?: Date;
  readonly durationMs: number;
}

/** Signs every file, at most `concurrency` at once; one file's failure never stops the others. */
export async function signFiles(
  paths: readonly string[],
  signer: Signer,
  settings: SignSettings,
  concurrency: number,
  onResult: (result: FileResult) => void = () => undefined,
): Promise<FileResult[]> {
  // The same file named twice (a.exe, ./a.exe) is signed once.
  const unique = [...new Map(paths.map((p) => [resolve(p), p])).values()];
  await removeLeftovers(unique);
  return mapWithLimit(unique, concurrency, async (path) => {
    const started = performance.now();
    let result: FileResult;
    try {
      const outcome = await signFile(path, signer, settings);
      result = { path, ...outcome, durationMs: performance.now() - started };
    } catch (error) {
      result = { path, status: 'failed', detail: messageOf(error), durationMs: performance.now() - started };
    }
    onResult(result);
    return result;
  });
}
