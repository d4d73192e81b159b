/** What the server made of one item of a batch. */
export type ItemAnswer<R> = { readonly value: R } | { readonly error: Error; readonly retryAfterMs?: number };

export interface BatchLimits {
  /** Items in one request. */
  readonly maxBatch: number;
  /** Requests out at once. */
  readonly maxInFlight: number;
  /**
   * How long an item waits for the request in flight to come back before it goes in a request of
   * its own: on a fast link the answer comes first and the waiting items go together; on a slow one
   * they go after this pause, so the round trip does not bound the rate.
   */
  readonly lingerMs: number;
  /** Times one item may be throttled before it fails. */
  readonly maxThrottled: number;
}

interface Entry<T, R> {
  readonly item: T;
  readonly signal?: AbortSignal;
  throttled: number;
  settle(outcome: { value: R } | { error: unknown }): void;
}

/**
 * Sends items (digests) to a server in batches: an item goes at once when no request is out;
 * otherwise it waits for the request to come back (or `lingerMs`) and goes with the others that
 * waited. A busy pool so pays one round trip and one audit-log flush a batch instead of one a file,
 * and an idle one loses no time. Each item keeps its own outcome and cancellation: a cancelled item is
 * dropped (its request too, once every item in it is cancelled); a throttled one waits its turn again.
 */
export class DigestBatcher<T, R> {
  private queue: Entry<T, R>[] = [];
  private inFlight = 0;
  private lingering?: NodeJS.Timeout;

  constructor(
    private readonly send: (items: readonly T[], signal: AbortSignal) => Promise<readonly ItemAnswer<R>[]>,
    private readonly onThrottled: (retryAfterMs: number) => void,
    private readonly limits: BatchLimits,
  ) {}

  submit(item: T, signal?: AbortSignal): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.queue = this.queue.filter((queued) => queued !== entry);
        entry.settle({ error: signal!.reason });
      };
      let settled = false;
      const entry: Entry<T, R> = {
        item,
        signal,
        throttled: 0,
        settle(outcome) {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          if ('value' in outcome) resolve(outcome.value);
          else reject(outcome.error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      this.pump();
    });
  }

  private pump(lingered = false): void {
    while (this.queue.length && this.inFlight < this.limits.maxInFlight) {
      if (this.inFlight > 0 && !lingered) {
        this.lingering ??= setTimeout(() => {
          this.lingering = undefined;
          this.pump(true);
        }, this.limits.lingerMs);
        return;
      }
      lingered = false;
      clearTimeout(this.lingering);
      this.lingering = undefined;
      const batch = this.queue.splice(0, this.limits.maxBatch);
      this.inFlight++;
      void this.dispatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async dispatch(batch: Entry<T, R>[]): Promise<void> {
    const controller = new AbortController();
    let cancelled = 0;
    const onCancel = () => {
      if (++cancelled === batch.length) controller.abort(new Error('every item of the batch was cancelled'));
    };
    for (const entry of batch)
      if (entry.signal?.aborted) onCancel();
      else entry.signal?.addEventListener('abort', onCancel, { once: true });
    try {
      const answers = await this.send(
        batch.map((entry) => entry.item),
        controller.signal,
      );
      batch.forEach((entry, i) => {
        const answer = answers[i];
        if ('value' in answer) return entry.settle(answer);
        if (answer.retryAfterMs === undefined || ++entry.throttled >= this.limits.maxThrottled)
          return entry.settle(answer);
        this.onThrottled(answer.retryAfterMs);
        if (!entry.signal?.aborted) this.queue.push(entry);
      });
    } catch (error) {
      batch.forEach((entry) => entry.settle({ error }));
    } finally {
      batch.forEach((entry) => entry.signal?.removeEventListener('abort', onCancel));
    }
  }
}
