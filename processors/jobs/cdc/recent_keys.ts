/**
 * @module
 * The newest change applied per row key, remembered for a horizon of Kafka time (default 1 h, the
 * realtime dedup horizon). An older or repeated change of a key inside the horizon is recognised
 * here; beyond it the Cassandra write timestamps alone keep the newest state. The oldest entry is
 * the replay point that rebuilds this state.
 */
import type { ReplayPoint } from "../../operators/replay_point.ts";
import type { SourcePosition } from "./position.ts";

/** What is remembered of a key's newest change. */
export interface KeyEntry {
  position: SourcePosition;
  /** Cassandra write timestamp (µs) given to the row state of that change. */
  writeTs: number;
  offset: number;
  kafkaTs: number;
  /** The partition's max event time before that change (for the replay point). */
  maxEventTimeBefore: number;
}

/** Options of {@link RecentKeys}. */
export interface RecentKeysOptions {
  /** How long (Kafka time) a key's newest change is remembered; default 3600000 (1 h). */
  horizonMs?: number;
}

/** Newest change per key within a horizon, in arrival order for eviction. */
export class RecentKeys {
  readonly horizonMs: number;
  #byKey = new Map<string, KeyEntry>();
  /** Arrival-ordered (key, entry) pairs; stale pairs are skipped when the key moved on. */
  #queue: { key: string; entry: KeyEntry }[] = [];
  #head = 0;
  #maxKafkaTs = -Infinity;

  constructor(options: RecentKeysOptions = {}) {
    const h = options.horizonMs ?? 3_600_000;
    if (!(Number.isFinite(h) && h >= 0)) {
      throw new RangeError(`Cannot create key state: 'horizonMs' must be ≥ 0, got ${h}`);
    }
    this.horizonMs = h;
  }

  /** Keys remembered. */
  get size(): number {
    return this.#byKey.size;
  }

  /** The newest change of `key` still inside the horizon at `kafkaTs`, if any. */
  get(key: string, kafkaTs: number): KeyEntry | undefined {
    this.#advance(kafkaTs);
    return this.#byKey.get(key);
  }

  /** Records `entry` as the newest change of `key`. */
  set(key: string, entry: KeyEntry): void {
    this.#advance(entry.kafkaTs);
    this.#byKey.set(key, entry);
    this.#queue.push({ key, entry });
  }

  /** Forgets every key (e.g. after a truncate of their table). */
  clear(predicate: (key: string) => boolean): void {
    for (const k of [...this.#byKey.keys()]) if (predicate(k)) this.#byKey.delete(k);
  }

  /** The oldest remembered change: a replay from there rebuilds this state. */
  replayPoint(): ReplayPoint | undefined {
    this.#skipStale();
    const top = this.#queue[this.#head];
    return top
      ? { offset: top.entry.offset, maxEventTime: top.entry.maxEventTimeBefore }
      : undefined;
  }

  #live(i: number): boolean {
    const q = this.#queue[i];
    return this.#byKey.get(q.key) === q.entry;
  }

  #skipStale(): void {
    while (this.#head < this.#queue.length && !this.#live(this.#head)) this.#head++;
    this.#compact();
  }

  #advance(kafkaTs: number): void {
    if (!(kafkaTs > this.#maxKafkaTs)) return;
    this.#maxKafkaTs = kafkaTs;
    const limit = kafkaTs - this.horizonMs;
    while (this.#head < this.#queue.length) {
      const q = this.#queue[this.#head];
      if (this.#live(this.#head)) {
        if (q.entry.kafkaTs >= limit) break;
        this.#byKey.delete(q.key);
      }
      this.#head++;
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#head < 1024 || this.#head * 2 < this.#queue.length) return;
    this.#queue = this.#queue.slice(this.#head);
    this.#head = 0;
  }
}
