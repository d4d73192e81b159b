import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One per service, shared by all its calls: a throttled answer closes the gate for every call until
 * the service's Retry-After, so the waiting calls go out together when its window reopens, instead of
 * each probing a full window on its own schedule or all of them slowing down for good.
 */
export class ThrottleGate {
  private openAt = 0;

  async wait(signal?: AbortSignal): Promise<void> {
    for (let delay = this.openAt - Date.now(); delay > 0; delay = this.openAt - Date.now())
      await sleep(delay, undefined, { signal });
  }

  close(forMs: number): void {
    this.openAt = Math.max(this.openAt, Date.now() + forMs);
  }
}
