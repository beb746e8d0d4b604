/**
 * @module
 * Realtime deduplication of docs/DESIGN.md: per partition, a copy of an `event_id` already seen
 * whose first copy's Kafka timestamp is at most `horizonMs` (1 h) older than this copy's is a
 * duplicate. Entries leave the filter once the partition's max Kafka timestamp is more than the
 * horizon past them (exact when Kafka timestamps do not decrease within a partition, which holds
 * for log-append time and for producers stamping in order).
 */
import type { ReplayPoint } from "./replay_point.ts";

/** Options of {@link DedupFilter}. */
export interface DedupOptions {
  /** How long a first copy suppresses later copies, by Kafka timestamp; default 3600000 (1 h). */
  horizonMs?: number;
}

/** Remembers first copies in arrival order for one partition. */
export class DedupFilter {
  readonly horizonMs: number;
  /** event_id → sequence number of its first copy in the queue. */
  #byId = new Map<string, number>();
  // A FIFO of first copies (parallel arrays, `#head` is the oldest live slot).
  #ids: string[] = [];
  #kts: number[] = [];
  #offsets: number[] = [];
  #maxBefore: number[] = [];
  #head = 0;
  /** Sequence number of slot 0 (grows as the queue is compacted). */
  #base = 0;
  #maxKafkaTs = -Infinity;

  constructor(options: DedupOptions = {}) {
    const h = options.horizonMs ?? 3_600_000;
    if (!(Number.isFinite(h) && h >= 0)) {
      throw new RangeError(`Cannot create dedup filter: 'horizonMs' must be ≥ 0, got ${h}`);
    }
    this.horizonMs = h;
  }

  /** First copies currently remembered. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * Decides whether a copy is a duplicate; a copy that is not becomes the first copy of its id.
   * @param id the event_id
   * @param kafkaTs the copy's Kafka message timestamp
   * @param offset the copy's offset (for the replay point)
   * @param maxEventTimeBefore the partition's max event time before this copy (for the replay point)
   * @returns true when the copy is a duplicate
   */
  check(id: string, kafkaTs: number, offset: number, maxEventTimeBefore: number): boolean {
    if (kafkaTs > this.#maxKafkaTs) {
      this.#maxKafkaTs = kafkaTs;
      this.#evict();
    }
    const seq = this.#byId.get(id);
    if (seq !== undefined) {
      const first = this.#kts[seq - this.#base];
      if (kafkaTs - first <= this.horizonMs) return true;
    }
    this.#byId.set(id, this.#base + this.#ids.length);
    this.#ids.push(id);
    this.#kts.push(kafkaTs);
    this.#offsets.push(offset);
    this.#maxBefore.push(maxEventTimeBefore);
    return false;
  }

  /** The oldest remembered first copy: a replay from there rebuilds this filter. */
  replayPoint(): ReplayPoint | undefined {
    this.#skipStale();
    if (this.#head >= this.#ids.length) return undefined;
    return { offset: this.#offsets[this.#head], maxEventTime: this.#maxBefore[this.#head] };
  }

  #live(slot: number): boolean {
    return this.#byId.get(this.#ids[slot]) === this.#base + slot;
  }

  /** Drops slots at the head that were superseded by a newer first copy of the same id. */
  #skipStale(): void {
    while (this.#head < this.#ids.length && !this.#live(this.#head)) this.#head++;
    this.#compact();
  }

  #evict(): void {
    const limit = this.#maxKafkaTs - this.horizonMs;
    while (this.#head < this.#ids.length) {
      const slot = this.#head;
      if (this.#live(slot)) {
        if (this.#kts[slot] >= limit) break;
        this.#byId.delete(this.#ids[slot]);
      }
      this.#head++;
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#head < 4096 || this.#head * 2 < this.#ids.length) return;
    const h = this.#head;
    this.#ids = this.#ids.slice(h);
    this.#kts = this.#kts.slice(h);
    this.#offsets = this.#offsets.slice(h);
    this.#maxBefore = this.#maxBefore.slice(h);
    this.#base += h;
    this.#head = 0;
  }
}
