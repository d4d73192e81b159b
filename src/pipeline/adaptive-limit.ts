/**
 * A concurrency limit that halves when the service throttles and creeps back up as calls succeed
 * (additive increase, multiplicative decrease), so a rate-limited vault is used near its rate.
 */
export class AdaptiveLimit {
  private limit: number;
  private active = 0;
  private successes = 0;
  private lastCut = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {
    this.limit = max;
  }

  get current(): number {
    return this.limit;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** One cut per second at most: a burst of 429s from one overload is one signal. */
  throttled(now = Date.now()): void {
    if (now - this.lastCut < 1000) return;
    this.lastCut = now;
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.successes = 0;
  }

  succeeded(): void {
    if (this.limit >= this.max) return;
    if (++this.successes >= this.limit) {
      this.successes = 0;
      this.limit++;
      this.waiting.shift()?.();
    }
  }
}
