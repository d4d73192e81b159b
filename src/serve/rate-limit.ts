/**
 * A token bucket per caller: up to `perMinute` signatures at once, refilled at `perMinute` a minute.
 * A burst (a matrix job starting) passes; a caller that keeps above the rate waits its turn.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(readonly perMinute: number) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one signature for `caller`: 0 when it may go now, else the milliseconds until it may. */
  take(caller: string, now = Date.now()): number {
    const bucket = this.buckets.get(caller) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    this.buckets.set(caller, bucket);
    this.forgetFull(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs);
  }

  /** A bucket refilled to the brim is the same as none: dropped, so callers seen once do not pile up. */
  private forgetFull(now: number): void {
    if (this.buckets.size < 1000) return;
    for (const [caller, bucket] of this.buckets)
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.perMinute) this.buckets.delete(caller);
  }
}
