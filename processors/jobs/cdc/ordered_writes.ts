/**
 * @module
 * Writes of prepared flushes, run strictly in the order they were prepared: a flush's write first
 * completes every earlier one still pending (a failed one is retried there), so the checkpoint of
 * a later flush is never stored while an earlier flush's outputs are missing.
 */

/** A queue of idempotent write thunks. */
export class OrderedWrites {
  #queue: { run: () => Promise<void> }[] = [];
  #running: Promise<void> | undefined;

  /** Queues a write; the returned function completes it and every earlier one. */
  add(run: () => Promise<void>): () => Promise<void> {
    const item = { run };
    this.#queue.push(item);
    return () => this.#through(item);
  }

  /** Writes still pending. */
  get size(): number {
    return this.#queue.length;
  }

  async #through(item: { run: () => Promise<void> }): Promise<void> {
    while (this.#running) await this.#running.catch(() => {});
    if (!this.#queue.includes(item)) return; // done by a later write already
    const run = (async () => {
      while (this.#queue.length > 0) {
        const head = this.#queue[0];
        await head.run();
        this.#queue.shift();
        if (head === item) return;
      }
    })();
    this.#running = run;
    try {
      await run;
    } finally {
      if (this.#running === run) this.#running = undefined;
    }
  }
}
