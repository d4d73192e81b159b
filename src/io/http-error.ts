/** An HTTP answer that is not the success the caller expected. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    message: string,
    readonly status: number,
    /** From a Retry-After header, when the server sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** Throttling and server-side failures may pass; other 4xx answers will not change on a retry. */
  get retryable(): boolean {
    return this.status === 429 || this.status === 408 || this.status >= 500;
  }

  /** `body`: the start of the reply's body (the caller caps it), quoted cleaned and cut short. */
  static from(
    response: { readonly status: number; readonly statusText: string; readonly headers: Headers },
    body: Uint8Array,
    what: string,
  ): HttpError {
    const quoted = printable(Buffer.from(body).toString('utf8'), 200);
    const statusText = printable(response.statusText, 100);
    return new HttpError(
      `${what}: HTTP ${response.status}${statusText ? ` ${statusText}` : ''}${quoted ? ` (${quoted})` : ''}`,
      response.status,
      parseRetryAfter(response.headers.get('retry-after')),
    );
  }
}

/**
 * Server text made safe to quote in one log line: terminal escape sequences go; control, format
 * (bidi, zero-width) and line separator characters become spaces, runs of space one; the result is
 * cut to `max` characters.
 */
export function printable(text: string, max: number): string {
  const clean = [
    ...text
      // eslint-disable-next-line no-control-regex -- matching terminal escapes is the point
      .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
      .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]+/gu, ' ')
      .trim(),
  ];
  return clean.length > max ? `${clean.slice(0, max - 1).join('')}…` : clean.join('');
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
