import { resolve } from 'node:path';
import { messageOf } from '../errors.js';
import { recoverJournals } from '../io/in-place-edit.js';
import { mapWithLimit } from './pool.js';
import { signFile } from './sign-file.js';
/** Signs every file, at most `concurrency` at once; one file's failure never stops the others. */
export async function signFiles(paths, signer, settings, limits, onResult = () => undefined) {
    // The same file named twice (a.exe, ./a.exe) is signed once.
    const unique = [...new Map(paths.map((p) => [resolve(p), p])).values()];
    await recoverJournals(unique);
    const { signal } = limits;
    const stopped = (when) => `not signed, unchanged: ${limits.stopReason ?? 'the run was stopped'} ${when}`;
    return mapWithLimit(unique, limits.concurrency, async (path) => {
        const started = performance.now();
        let result;
        if (signal?.aborted) {
            result = { path, status: 'failed', detail: stopped('before it started'), durationMs: 0 };
        }
        else {
            try {
                const outcome = await signFile(path, signer, settings, signal);
                result = { path, ...outcome, durationMs: performance.now() - started };
            }
            catch (error) {
                const detail = signal?.aborted ? stopped('while it was being signed') : messageOf(error);
                result = { path, status: 'failed', detail, durationMs: performance.now() - started };
            }
        }
        onResult(result);
        return result;
    });
}
