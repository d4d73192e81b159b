/** An HTTP answer that is not the success the caller expected. */
export class HttpError extends Error {
    status;
    retryAfterMs;
    name = 'HttpError';
    constructor(message, status, 
    /** From a Retry-After header, when the server sent one. */
    retryAfterMs) {
        super(message);
        this.status = status;
        this.retryAfterMs = retryAfterMs;
    }
    /** Throttling and server-side failures may pass; other 4xx answers will not change on a retry. */
    get retryable() {
        return this.status === 429 || this.status === 408 || this.status >= 500;
    }
    static async from(response, what) {
        const body = (await response.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ').trim();
        return new HttpError(`${what}: HTTP ${response.status} ${response.statusText}${body ? ` (${body})` : ''}`, response.status, parseRetryAfter(response.headers.get('retry-after')));
    }
}
/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value) {
    if (!value)
        return undefined;
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0)
        return seconds * 1000;
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
