/**
 * @module
 * Time as a small interface, so the scheduler loop and the stream supervisor run on a controlled
 * clock in tests instead of sleeping.
 */

/** Current time and abortable waiting. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms` (at once when ≤ 0), or early when `signal` aborts; never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `Date.now` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, 2_147_483_647));
      signal?.addEventListener("abort", done, { once: true });
    });
  },
};

/**
 * A clock that moves only when told (tests). Sleepers wake when {@link ManualClock.advance} or
 * {@link ManualClock.set} reaches their wake time, or when their signal aborts.
 */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: { at: number; wake: () => void }[] = [];

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Number of pending sleeps. */
  get sleepers(): number {
    return this.#sleepers.length;
  }

  /** Wake time of the earliest pending sleep, if any. */
  get nextWake(): number | undefined {
    return this.#sleepers.length ? Math.min(...this.#sleepers.map((s) => s.at)) : undefined;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = {
        at: this.#now + ms,
        wake: () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
          signal?.removeEventListener("abort", sleeper.wake);
          resolve();
        },
      };
      this.#sleepers.push(sleeper);
      signal?.addEventListener("abort", sleeper.wake, { once: true });
    });
  }

  /** Moves time forward by `ms` and wakes the sleepers that are due. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /** Moves time to `at` (never backwards) and wakes the sleepers that are due. */
  set(at: number): void {
    if (at < this.#now) {
      throw new RangeError(`ManualClock cannot go back from ${this.#now} to ${at}`);
    }
    this.#now = at;
    for (const s of [...this.#sleepers]) if (s.at <= at) s.wake();
  }
}
