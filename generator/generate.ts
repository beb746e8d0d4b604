/**
 * @module
 * `generate(options)`: the reproducible record stream the platform is tested and demonstrated
 * with. Valid events from traffic.ts get Kafka coordinates (key, partition, arrival time) and are
 * mixed with malformed records, re-sent duplicates, out-of-order and late arrivals and CDC
 * tombstones, in the shares asked for. Records come out in arrival (`kafkaTs`) order, so
 * producing them in order gives every partition the offset order the reference calculator
 * assumes.
 *
 * @example
 * ```ts
 * import { generate } from "./generate.ts";
 * const start = Date.parse("2026-11-20T00:00:00Z");
 * for (const r of generate({ seed: 7, startMs: start, endMs: start + 3_600_000, eventsPerSecond: 20 })) {
 *   console.log(r.topic, r.partition, r.kind);
 * }
 * ```
 */
import type { TopicKey } from "../shared/config.ts";
import { TOPIC_KEYS } from "../shared/config.ts";
import { MAX_FUTURE_MS, type RejectReason } from "../shared/events.ts";
import { partitionFor } from "../shared/partitioner.ts";
import { floorMinute } from "../shared/time.ts";
import { MinHeap } from "./_heap.ts";
import { cumulativeWeights, Rng } from "./_rng.ts";
import { malform, reasonsFor } from "./malformed.ts";
import { createPopulation, type Population } from "./population.ts";
import { type SimEvent, Traffic } from "./traffic.ts";

/** What a record is meant to exercise. */
export type RecordKind =
  | "valid"
  | "malformed"
  | "duplicate"
  | "out_of_order"
  | "late"
  | "tombstone";

/** One Kafka message to produce. */
export interface GeneratedRecord {
  topic: TopicKey;
  key: string | null;
  partition: number;
  /** Message value; null for a tombstone (and for a malformed tombstone on a non-CDC topic). */
  value: string | null;
  /** Kafka message timestamp: the arrival time (≥ event time), epoch ms. */
  kafkaTs: number;
  /**
   * `valid`: in order; `out_of_order`: event time below the partition's max so far but not late;
   * `late`: dropped by the realtime watermark rule (DESIGN.md) evaluated on this record stream;
   * `duplicate`: a re-sent copy (same key and value) within 1 h of the first copy's `kafkaTs`;
   * `malformed`: rejected by `parseEvent` with `reason`; `tombstone`: null value after a CDC delete.
   */
  kind: RecordKind;
  /** Event time (epoch ms) of records that parse; a tombstone's is its `kafkaTs`. */
  eventTime?: number;
  /** For `malformed` records: the intended rejection reason. */
  reason?: RejectReason;
}

/** Options of {@link generate}. Shares are fractions (0..1) of all records produced. */
export interface GeneratorOptions {
  /** PRNG seed; default 1. */
  seed?: number;
  /** Users in the population; default 1000. */
  users?: number;
  /** Courses in the population; default 20. */
  courses?: number;
  /** Start of event time (epoch ms). */
  startMs: number;
  /** Exclusive end of event time; default Infinity (then stop with `totalEvents` or by breaking). */
  endMs?: number;
  /** Records per second of event time, averaged over a day; default `totalEvents / span` or 20. */
  eventsPerSecond?: number;
  /** Stop after this many records. */
  totalEvents?: number;
  /** Partitions of every topic; default 6. */
  partitions?: number;
  /**
   * The instant of the future check. Future-timestamp records are 1-2 years after it; with an
   * explicit `now`, `endMs` may not exceed it by more than 5 minutes. Default: `endMs` when finite,
   * else `startMs`.
   */
  now?: number;
  /** Share of malformed records (every rejection reason); default 0.01. */
  malformedShare?: number;
  /** Share of re-sent duplicates; default 0.01. */
  duplicateShare?: number;
  /** Share of out-of-order (delayed but within the lateness) arrivals; default 0.02. */
  outOfOrderShare?: number;
  /** Share of late arrivals (beyond `allowedLatenessMs`); default 0.005. */
  lateShare?: number;
  /** The platform's `ALLOWED_LATENESS_MS`; default 600000. */
  allowedLatenessMs?: number;
  /** Include `too_large` (> 1 MiB) malformed records; default true. */
  tooLarge?: boolean;
  /** CDC snapshot (`op: r`) of existing users at `startMs`; default true. */
  cdcSnapshot?: boolean;
  /** Shape traffic by the users' local time of day; default true. */
  diurnal?: boolean;
  /** Sign-ups inside the span (share of users); default 0.05. */
  signupShare?: number;
  /** Deletions inside the span (share of users); default 0.003. */
  deleteShare?: number;
  /**
   * Simulate this long before `startMs` so sessions are already under way at `startMs` (steady
   * volume from the first second); records arriving before `startMs` are dropped, so a few early
   * records have an event time before `startMs`. Default 0.
   */
  warmupMs?: number;
  /** A prebuilt population (otherwise built from seed, users, courses). */
  population?: Population;
}

interface Arrival {
  at: number;
  seq: number;
  rec: GeneratedRecord;
  /** The source event of a base record (for duplicates and malformed copies). */
  ev?: SimEvent;
}

const TOPIC_INDEX = new Map(TOPIC_KEYS.map((t, i) => [t, i]));

/**
 * Generates records in arrival order. Same options, same records.
 * @throws {RangeError} on an invalid option (message names it)
 */
export function* generate(options: GeneratorOptions): Generator<GeneratedRecord> {
  const o = resolve(options);
  if (
    options.eventsPerSecond === undefined && Number.isFinite(o.totalEvents) &&
    Number.isFinite(o.endMs)
  ) {
    // totalEvents over a fixed span: the rate estimate is approximate (time of day, sign-ups), so
    // dry runs scale it until the span holds at least totalEvents records; the stream then stops
    // at exactly totalEvents. Deterministic like the rest.
    for (let pass = 0; pass < 6; pass++) {
      let n = 0;
      for (const _ of records(options, o)) if (++n >= o.totalEvents) break;
      if (n >= o.totalEvents) break;
      o.eventsPerSecond *= 1.04 * o.totalEvents / Math.max(n, 1);
    }
  }
  yield* records(options, o);
}

function* records(options: GeneratorOptions, o: Resolved): Generator<GeneratedRecord> {
  const rng = new Rng((o.seed * 0x9e3779b1) ^ 0xa11ce);
  const pop = options.population ?? createPopulation({
    seed: o.seed,
    users: options.users,
    courses: options.courses,
    startMs: o.startMs,
    endMs: o.endMs,
    signupShare: options.signupShare,
    deleteShare: options.deleteShare,
  });
  const base = 1 - o.malformedShare - o.duplicateShare;
  const traffic = new Traffic(pop, {
    seed: o.seed,
    startMs: o.startMs - o.warmupMs,
    snapshotMs: o.startMs,
    endMs: o.endMs,
    eventsPerSecond: o.eventsPerSecond * base,
    cdcSnapshot: options.cdcSnapshot,
    diurnal: options.diurnal,
  });
  const pLate = o.lateShare / base;
  const pOoo = o.outOfOrderShare / base;
  const malformedPer = o.malformedShare / base;
  const dupPer = o.duplicateShare / base;
  const L = o.allowedLatenessMs;
  const oooMin = Math.min(30_000, L / 2);
  const oooMax = Math.max(oooMin, L - 30_000);

  const P = o.partitions;
  const maxEt = new Float64Array(TOPIC_KEYS.length * P).fill(-Infinity);
  const partitions = new Map<string, number>();
  const partitionOf = (key: string) => {
    let p = partitions.get(key);
    if (p === undefined) partitions.set(key, p = partitionFor(key, P));
    return p;
  };
  const arrivals = new MinHeap<Arrival>();
  let seq = 0;
  const push = (at: number, rec: GeneratedRecord, ev?: SimEvent) =>
    arrivals.push({ at, seq: seq++, rec, ev });
  let emitted = 0;

  const extras = (a: Arrival) => {
    const { rec, ev } = a;
    if (!ev) return;
    if (ev.op === "d") {
      const tomb: GeneratedRecord = {
        ...rec,
        value: null,
        kind: "tombstone",
        eventTime: rec.kafkaTs,
      };
      push(rec.kafkaTs, tomb);
    }
    for (let n = count(rng, malformedPer); n > 0; n--) {
      const reasons = reasonsFor(ev.topic).filter((r) => o.tooLarge || r !== "too_large");
      const weights = cumulativeWeights(reasons.map((r) => (r === "too_large" ? 0.25 : 1)));
      const reason = rng.pickWeighted(reasons, weights);
      const parsed = JSON.parse(ev.value);
      const body = ev.wrapped ? parsed.payload : parsed;
      const m = malform(ev.topic, body, reason, rng, { now: o.now, wrapped: ev.wrapped });
      const bad: GeneratedRecord = { ...rec, value: m.value, kind: "malformed", reason: m.reason };
      delete bad.eventTime;
      push(rec.kafkaTs, bad);
    }
    if (ev.topic !== "CDC") {
      for (let n = count(rng, dupPer); n > 0; n--) {
        const delay = rng.chance(0.6) ? rng.int(100, 10_000) : rng.int(10_000, 55 * 60_000);
        const dup: GeneratedRecord = { ...rec, kafkaTs: rec.kafkaTs + delay, kind: "duplicate" };
        push(dup.kafkaTs, dup);
      }
    }
  };

  for (;;) {
    const clock = traffic.peekTime();
    for (let top = arrivals.peek(); top && top.at <= clock; top = arrivals.peek()) {
      arrivals.pop();
      const rec = top.rec;
      if (rec.kafkaTs < o.startMs) continue; // warm-up: arrived before the stream starts
      if (rec.eventTime !== undefined) {
        const i = TOPIC_INDEX.get(rec.topic)! * P + rec.partition;
        const max = maxEt[i];
        if (top.ev) {
          const t = rec.eventTime;
          rec.kind = floorMinute(t) + 60_000 <= max - L
            ? "late"
            : t < max
            ? "out_of_order"
            : "valid";
        }
        if (rec.eventTime > max) maxEt[i] = rec.eventTime;
      }
      extras(top);
      yield rec;
      if (++emitted >= o.totalEvents) return;
    }
    if (clock === Infinity) return;
    const ev = traffic.next()!;
    const u = rng.next();
    const delay = u < pLate
      ? L + rng.int(120_000, 90 * 60_000)
      : u < pLate + pOoo
      ? rng.int(oooMin, oooMax)
      : 0;
    const rec: GeneratedRecord = {
      topic: ev.topic,
      key: ev.key,
      partition: partitionOf(ev.key),
      value: ev.value,
      kafkaTs: ev.eventTime + delay,
      kind: "valid",
      eventTime: ev.eventTime,
    };
    push(rec.kafkaTs, rec, ev);
  }
}

/** A count with the given mean ≤ a few: floor(mean) plus a Bernoulli draw of the rest. */
function count(rng: Rng, mean: number): number {
  const whole = Math.floor(mean);
  return whole + (rng.chance(mean - whole) ? 1 : 0);
}

interface Resolved {
  seed: number;
  startMs: number;
  endMs: number;
  eventsPerSecond: number;
  totalEvents: number;
  partitions: number;
  now: number;
  malformedShare: number;
  duplicateShare: number;
  outOfOrderShare: number;
  lateShare: number;
  allowedLatenessMs: number;
  tooLarge: boolean;
  warmupMs: number;
}

function resolve(options: GeneratorOptions): Resolved {
  const fail = (name: string, detail: string, v: unknown): never => {
    throw new RangeError(`Cannot generate: '${name}' ${detail}, got ${v}`);
  };
  const { startMs } = options;
  if (!Number.isFinite(startMs)) fail("startMs", "must be a finite epoch ms", startMs);
  const endMs = options.endMs ?? Infinity;
  if (!(endMs > startMs)) fail("endMs", "must be after startMs", endMs);
  const totalEvents = options.totalEvents ?? Infinity;
  if (!(totalEvents > 0)) fail("totalEvents", "must be > 0", totalEvents);
  const span = (endMs - startMs) / 1000;
  const eventsPerSecond = options.eventsPerSecond ??
    (Number.isFinite(totalEvents) && Number.isFinite(span) ? 1.03 * totalEvents / span : 20);
  if (!(eventsPerSecond > 0)) fail("eventsPerSecond", "must be > 0", eventsPerSecond);
  const partitions = options.partitions ?? 6;
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    fail("partitions", "must be a positive integer", partitions);
  }
  const share = (name: keyof GeneratorOptions, fallback: number) => {
    const v = (options[name] as number | undefined) ?? fallback;
    if (!(v >= 0 && v < 1)) fail(name, "must be in [0, 1)", v);
    return v;
  };
  const malformedShare = share("malformedShare", 0.01);
  const duplicateShare = share("duplicateShare", 0.01);
  const outOfOrderShare = share("outOfOrderShare", 0.02);
  const lateShare = share("lateShare", 0.005);
  if (malformedShare + duplicateShare >= 0.9) {
    fail("malformedShare + duplicateShare", "must be < 0.9", malformedShare + duplicateShare);
  }
  if (lateShare + outOfOrderShare > 1 - malformedShare - duplicateShare) {
    fail(
      "lateShare + outOfOrderShare",
      "must leave room for the other shares",
      lateShare + outOfOrderShare,
    );
  }
  if (!((options.warmupMs ?? 0) >= 0)) fail("warmupMs", "must be >= 0", options.warmupMs);
  const allowedLatenessMs = options.allowedLatenessMs ?? 600_000;
  if (!(allowedLatenessMs >= 0)) fail("allowedLatenessMs", "must be >= 0", allowedLatenessMs);
  if (options.now !== undefined && Number.isFinite(endMs) && endMs > options.now + MAX_FUTURE_MS) {
    fail("endMs", `must not be more than 5 minutes after now (${options.now})`, endMs);
  }
  return {
    seed: options.seed ?? 1,
    startMs,
    endMs,
    eventsPerSecond,
    totalEvents,
    partitions,
    now: options.now ?? (Number.isFinite(endMs) ? endMs : startMs),
    malformedShare,
    duplicateShare,
    outOfOrderShare,
    lateShare,
    allowedLatenessMs,
    tooLarge: options.tooLarge ?? true,
    warmupMs: options.warmupMs ?? 0,
  };
}
