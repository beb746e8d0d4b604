/**
 * @module
 * A FIFO async mutex: record processing, worker set-up and the snapshot phase of a flush run one
 * at a time, while row writes of an earlier flush proceed in the background.
 */

/** A FIFO async mutex. */
export class Mutex {
  #locked = false;
  #waiters: (() => void)[] = [];

  /** Whether the mutex is held. */
  get locked(): boolean {
    return this.#locked;
  }

  /** Waits for the mutex; call the returned function exactly once to release it. */
  async acquire(): Promise<() => void> {
    if (this.#locked) await new Promise<void>((r) => this.#waiters.push(r));
    this.#locked = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next(); // hand over without unlocking
      else this.#locked = false;
    };
  }

  /** Runs `fn` holding the mutex. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
