/**
 * A concurrency limit that halves when the service throttles and creeps back up as calls succeed
 * (additive increase, multiplicative decrease), so a rate-limited vault is used near its rate.
 */
export class AdaptiveLimit {
    max;
    limit;
    active = 0;
    successes = 0;
    lastCut = 0;
    waiting = [];
    constructor(max) {
        this.max = max;
        this.limit = max;
    }
    get current() {
        return this.limit;
    }
    async run(work) {
        while (this.active >= this.limit)
            await new Promise((resolve) => this.waiting.push(resolve));
        this.active++;
        try {
            return await work();
        }
        finally {
            this.active--;
            this.waiting.shift()?.();
        }
    }
    /** One cut per second at most: a burst of 429s from one overload is one signal. */
    throttled(now = Date.now()) {
        if (now - this.lastCut < 1000)
            return;
        this.lastCut = now;
        this.limit = Math.max(1, Math.floor(this.limit / 2));
        this.successes = 0;
    }
    succeeded() {
        if (this.limit >= this.max)
            return;
        if (++this.successes >= this.limit) {
            this.successes = 0;
            this.limit++;
            this.waiting.shift()?.();
        }
    }
}
