/**
 * @module
 * The replay point of state kept for a span of event time: events in offset order, the head
 * dropped once its event time is more than `keepMs` before the partition's max event time. A
 * replay from the head rebuilds every event still inside the span (conservative: an old event
 * behind a recent one stays until the recent one leaves).
 */
import type { ReplayPoint } from "../../operators/replay_point.ts";

/** Offsets whose events may still matter for a span of event time. */
export class HorizonQueue {
  readonly keepMs: number;
  #offsets: number[] = [];
  #times: number[] = [];
  #maxBefore: number[] = [];
  #head = 0;

  constructor(keepMs: number) {
    if (!(keepMs >= 0)) throw new RangeError(`Cannot keep a horizon: 'keepMs' must be ≥ 0`);
    this.keepMs = keepMs;
  }

  /** Adds an event (in offset order). */
  push(offset: number, eventTime: number, maxEventTimeBefore: number): void {
    this.#offsets.push(offset);
    this.#times.push(eventTime);
    this.#maxBefore.push(maxEventTimeBefore);
  }

  /** Drops head events older than `maxEventTime − keepMs`. */
  advance(maxEventTime: number): void {
    const limit = maxEventTime - this.keepMs;
    while (this.#head < this.#offsets.length && this.#times[this.#head] < limit) this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#offsets.length) {
      this.#offsets = this.#offsets.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#maxBefore = this.#maxBefore.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The oldest event kept, if any. */
  replayPoint(): ReplayPoint | undefined {
    const h = this.#head;
    return h < this.#offsets.length
      ? { offset: this.#offsets[h], maxEventTime: this.#maxBefore[h] }
      : undefined;
  }

  /** Events kept. */
  get size(): number {
    return this.#offsets.length - this.#head;
  }
}
