import { HttpError } from './http-error.js';

/** How much and how long one reply may take: a server must not hold memory or the run without end. */
export interface ReplyLimits {
  /** Bytes the body may hold; the read stops with an error beyond it. */
  readonly maxBytes: number;
  /** From sending the request to the reply's status and headers (connect, TLS, first byte). */
  readonly firstByteMs: number;
  /** From sending the request to the last byte of the body. */
  readonly totalMs: number;
  /** Appended to the size error: what the server should have been. */
  readonly hint?: string;
}

/** The part of an error reply's body quoted in its message: enough for a server's one-line reason. */
export const ERROR_TEXT_BYTES = 1024;

/** A reply larger than its cap; the same request would only bring it again. */
export class ReplyTooLargeError extends Error {
  override readonly name = 'ReplyTooLargeError';
}

/** A server that did not answer, or not in full, within the time limit. */
export class ReplyTimeoutError extends Error {
  override readonly name = 'ReplyTimeoutError';
}

export function formatSize(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} bytes`;
}

export function tooLarge(url: string, limits: Pick<ReplyLimits, 'maxBytes' | 'hint'>): ReplyTooLargeError {
  return new ReplyTooLargeError(
    `the reply from ${url} exceeds ${formatSize(limits.maxBytes)}${limits.hint ? `; ${limits.hint}` : ''}`,
  );
}

/**
 * Reads a body up to `maxBytes`: `complete` is false when more followed, and the rest is not read
 * (leaving the loop cancels the stream, so the connection closes).
 */
export async function readAtMost(
  body: AsyncIterable<Uint8Array> | null | undefined,
  maxBytes: number,
): Promise<{ bytes: Buffer; complete: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (!body) return { bytes: Buffer.alloc(0), complete: true };
  for await (const chunk of body) {
    const room = maxBytes - size;
    if (chunk.byteLength > room) {
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, room));
      return { bytes: Buffer.concat(chunks), complete: false };
    }
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    size += chunk.byteLength;
  }
  return { bytes: Buffer.concat(chunks), complete: true };
}

/** Starts the two clocks of one request; the returned signal ends it, with the reason in words. */
export function requestClock(
  url: string,
  limits: Pick<ReplyLimits, 'firstByteMs' | 'totalMs'>,
  signal?: AbortSignal,
): { signal: AbortSignal; answered(): void; done(): void } {
  const local = new AbortController();
  const seconds = (ms: number) => `${+(ms / 1000).toFixed(3)} s`;
  const firstByte = setTimeout(
    () => local.abort(new ReplyTimeoutError(`${url} did not answer within ${seconds(limits.firstByteMs)}`)),
    limits.firstByteMs,
  );
  const total = setTimeout(
    () =>
      local.abort(
        new ReplyTimeoutError(
          `the reply from ${url} did not arrive in full within ${seconds(limits.totalMs)}`,
        ),
      ),
    limits.totalMs,
  );
  return {
    signal: signal ? AbortSignal.any([local.signal, signal]) : local.signal,
    answered: () => clearTimeout(firstByte),
    done: () => {
      clearTimeout(firstByte);
      clearTimeout(total);
    },
  };
}

/** A 2xx reply, read within its limits. */
export interface BoundedReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

/**
 * fetch with every outside read bounded: the body is streamed and cut off at `maxBytes`, the request
 * ends after `firstByteMs` without an answer or `totalMs` in all, and on the caller's signal (whose
 * reason is then what is thrown). Returns the body. A reply that is not 2xx throws an HttpError quoting a short,
 * cleaned prefix of its body.
 */
export async function boundedFetch(
  url: string,
  init: Omit<RequestInit, 'signal'>,
  limits: ReplyLimits,
  signal?: AbortSignal,
): Promise<Buffer> {
  return (await boundedRequest(url, init, limits, signal)).body;
}

/** boundedFetch, for callers that also need the reply's status and headers (e.g. a 202's Operation-Location). */
export async function boundedRequest(
  url: string,
  init: Omit<RequestInit, 'signal'>,
  limits: ReplyLimits,
  signal?: AbortSignal,
): Promise<BoundedReply> {
  const clock = requestClock(url, limits, signal);
  try {
    const response = await fetch(url, { ...init, signal: clock.signal });
    clock.answered();
    if (!response.ok) {
      // The status decides what happens next: a body that breaks off only shortens the quote.
      const { bytes } = await readAtMost(response.body, ERROR_TEXT_BYTES).catch(() => ({
        bytes: Buffer.alloc(0),
      }));
      signal?.throwIfAborted();
      throw HttpError.from(response, bytes, url);
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > limits.maxBytes) {
      await response.body?.cancel();
      throw tooLarge(url, limits);
    }
    const { bytes, complete } = await readAtMost(response.body, limits.maxBytes);
    if (!complete) throw tooLarge(url, limits);
    return { status: response.status, headers: response.headers, body: bytes };
  } catch (error) {
    signal?.throwIfAborted();
    if (clock.signal.aborted) throw clock.signal.reason;
    throw error;
  } finally {
    clock.done();
  }
}
