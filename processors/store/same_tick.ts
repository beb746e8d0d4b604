/**
 * @module
 * Coalescing of calls made in the same tick: the items of every call go into one batch, handed to
 * a function in a microtask; every caller's promise settles with that one run.
 */

/** One tick's batch: push items into `items`, return `done` to the caller. */
export interface TickBatch<T> {
  items: T[];
  done: Promise<void>;
}

/** Collects the items of one tick and runs them together (see the module doc). */
export class SameTickBatcher<T> {
  #run: (items: T[]) => Promise<void>;
  #queued: { items: T[]; done: PromiseWithResolvers<void> } | undefined;

  /** @param run called once per tick with every item added in it */
  constructor(run: (items: T[]) => Promise<void>) {
    this.#run = run;
  }

  /** The current tick's batch (started, and its run scheduled, on the first call of the tick). */
  batch(): TickBatch<T> {
    let q = this.#queued;
    if (!q) {
      const mine = q = this.#queued = { items: [], done: Promise.withResolvers<void>() };
      queueMicrotask(() => {
        this.#queued = undefined;
        this.#run(mine.items).then(mine.done.resolve, mine.done.reject);
      });
    }
    return { items: q.items, done: q.done.promise };
  }
}
