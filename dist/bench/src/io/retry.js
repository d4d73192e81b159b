import { setTimeout as sleep } from 'node:timers/promises';
/** Exponential backoff with jitter: half the step fixed, half random, so parallel callers spread out. */
export function backoffDelay(attempt, baseDelayMs, maxDelayMs) {
    const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return step / 2 + Math.random() * (step / 2);
}
export async function retry(work, options) {
    for (let attempt = 1;; attempt++) {
        try {
            return await work(attempt);
        }
        catch (error) {
            options.signal?.throwIfAborted();
            if (attempt >= options.attempts || options.isRetryable?.(error) === false)
                throw error;
            const requested = options.requestedDelayMs?.(error);
            const delay = requested !== undefined
                ? Math.min(requested, options.maxDelayMs)
                : backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs);
            options.onRetry?.(error, attempt, delay);
            await sleep(delay, undefined, { signal: options.signal });
        }
    }
}
