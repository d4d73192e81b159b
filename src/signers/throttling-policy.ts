import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { UserError } from '../errors.js';
import { parseRetryAfter } from '../io/http-error.js';
import type { ThrottleGate } from './throttle-gate.js';

/** Throttled answers one call may meet in a row: a window or two is normal with many calls in flight. */
export const MAX_THROTTLED = 30;

/**
 * Handles 429 below the SDK's retries, through one gate for the whole vault: a throttled call closes
 * the gate for every call until Retry-After, so throttling neither spends the retry budget meant for
 * failures nor sends calls into a window the vault has said is full.
 */
export function throttlingPolicy(gate: ThrottleGate): PipelinePolicy {
  return {
    name: 'vaultsign-throttle-gate',
    async sendRequest(request, next) {
      for (let throttled = 1; ; throttled++) {
        // The SDK passes on the AbortSignal given to the client call.
        await gate.wait(request.abortSignal as AbortSignal | undefined);
        const response = await next(request);
        if (response.status !== 429) return response;
        if (throttled >= MAX_THROTTLED)
          throw new UserError(
            `the vault throttled one call ${MAX_THROTTLED} times in a row (HTTP 429); lower the concurrency input or raise the vault's limit`,
          );
        gate.close(parseRetryAfter(response.headers.get('retry-after') ?? null) ?? 1000);
      }
    },
  };
}
