import {
  createDefaultHttpClient,
  RestError,
  type HttpClient,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { readAtMost, ReplyTimeoutError, requestClock, tooLarge, type ReplyLimits } from './bounded-fetch.js';

/**
 * Azure replies (tokens, certificates, signatures, their errors) are a few KB; a certificate bundle
 * stays under 100 KB. A vault or sign-in service that has not answered in 30 s is better retried.
 */
export const AZURE_REPLY_LIMITS: ReplyLimits = {
  maxBytes: 1 << 20,
  firstByteMs: 30_000,
  totalMs: 60_000,
  hint: 'is this an Azure endpoint?',
};

/** Every status streamed: the body is read here, under the cap, instead of whole by the SDK. */
const STREAM_EVERY_STATUS = new Set([Number.POSITIVE_INFINITY]);

/**
 * The Azure SDK's HTTP client with the bounds of boundedFetch: the SDK reads any body whole and
 * times only the first byte. A request also ends on `signal` (the run's deadline), for SDK parts
 * that do not pass the caller's AbortSignal on (MSAL's token requests). A timed-out request is
 * reported as ETIMEDOUT, which the SDK's retry policy retries like a dropped connection.
 */
export function boundedHttpClient(
  options: { readonly signal?: AbortSignal; readonly limits?: ReplyLimits } = {},
): HttpClient {
  const { signal, limits = AZURE_REPLY_LIMITS } = options;
  const inner = createDefaultHttpClient();
  return {
    async sendRequest(request): Promise<PipelineResponse> {
      const { abortSignal, streamResponseStatusCodes } = request;
      const url = new URL(request.url);
      const shown = `${url.origin}${url.pathname}`;
      const outer = [abortSignal as AbortSignal | undefined, signal].filter((s) => s !== undefined);
      const clock = requestClock(shown, limits, outer.length ? AbortSignal.any(outer) : undefined);
      request.abortSignal = clock.signal;
      request.streamResponseStatusCodes = STREAM_EVERY_STATUS;
      try {
        const response = await inner.sendRequest(request);
        clock.answered();
        // A response stream without an encoding set yields Buffers.
        const body = response.readableStreamBody as AsyncIterable<Buffer> | undefined;
        const { bytes, complete } = await readAtMost(body, limits.maxBytes);
        if (!complete) throw new RestError(tooLarge(shown, limits).message, { request });
        return { ...response, readableStreamBody: undefined, bodyAsText: bytes.toString('utf8') };
      } catch (error) {
        const reason: unknown = clock.signal.reason;
        if (outer.some((s) => s.aborted) || !(reason instanceof ReplyTimeoutError)) throw error;
        throw new RestError(reason.message, { code: 'ETIMEDOUT', request });
      } finally {
        clock.done();
        request.abortSignal = abortSignal;
        request.streamResponseStatusCodes = streamResponseStatusCodes;
      }
    },
  };
}
