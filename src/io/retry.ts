import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Total tries, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly signal?: AbortSignal;
  /** False stops at once (the error is final). Default: every error is retried. */
  readonly isRetryable?: (error: unknown) => boolean;
  /** A delay the server asked for (e.g. Retry-After), used instead of the backoff when given. */
  readonly requestedDelayMs?: (error: unknown) => number | undefined;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Exponential backoff with jitter: half the step fixed, half random, so parallel callers spread out. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return step / 2 + Math.random() * (step / 2);
}

export async function retry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      options.signal?.throwIfAborted();
      if (attempt >= options.attempts || options.isRetryable?.(error) === false) throw error;
      const requested = options.requestedDelayMs?.(error);
      const delay =
        requested !== undefined
          ? Math.min(requested, options.maxDelayMs)
          : backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, undefined, { signal: options.signal });
    }
  }
}
