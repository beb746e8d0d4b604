/**
 * @module
 * The merge engine: answers a series, sessions or a batch-only lookup by reading batch hours
 * before `batchThrough` and realtime minutes from it on (CONTRACTS.md §4 "How an answer is
 * merged"), with provenance. Pure: the stores and the clock come in through its options.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../shared/time.ts";
import {
  type Coverage,
  coverageAt,
  gapsOf,
  planSegments,
  type Segment,
  sourceOf,
} from "./coverage.ts";
import { ArgumentError } from "./errors.ts";
import { Lru } from "./lru.ts";
import { type FigureOps, FIGURES } from "./figures.ts";
import type {
  BatchSnapshot,
  BatchStore,
  DailySummaryRecord,
  Granularity,
  Interval,
  Provenance,
  RealtimeStatus,
  RealtimeStore,
  SeriesAnswer,
  SeriesPoint,
  SeriesView,
  SessionsAnswer,
  UserSegmentRecord,
  ViewFigures,
  ViewKeys,
} from "./types.ts";

/** Bucket size of each granularity in ms. */
export const GRANULARITY_MS: Record<Granularity, number> = {
  MINUTE: MINUTE_MS,
  HOUR: HOUR_MS,
  DAY: DAY_MS,
};

/** Options of {@link createMergeEngine}. */
export interface MergeEngineOptions {
  batch: BatchStore;
  realtime: RealtimeStore;
  /** Realtime retention in ms (REALTIME_TTL_SECONDS · 1000); default 72 h. */
  retentionMs?: number;
  /** Longest accepted range in days; default 400. */
  maxRangeDays?: number;
  /** Most buckets one series may have; default 10000. */
  maxPoints?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Summed batch parts of DAY buckets kept in memory; default 20000. */
  batchPartCacheSize?: number;
  /** Batch parts of whole series (one per version, view, key and range) kept; default 512. */
  batchAnswerCacheSize?: number;
  /**
   * Called when the realtime status cannot be read; the answer then treats realtime as covering
   * nothing (its part of the range becomes gaps). Default: ignore.
   */
  onRealtimeError?: (error: unknown) => void;
}

/** What every answer shares: one batch version, one realtime status and one `now`. */
export interface AnswerContext {
  now: number;
  snapshot: BatchSnapshot;
  status: RealtimeStatus;
  coverage: Coverage;
}

/** Answers queries by merging the batch and realtime layers. */
export interface MergeEngine {
  /** Reads the batch version, realtime status and clock once, for answers that must agree. */
  context(): Promise<AnswerContext>;
  /**
   * A merged series over `[from, to)` widened to whole hours (HOUR, DAY) or minutes (MINUTE),
   * one point per bucket of `granularity`, clipped to that range.
   * @throws {ArgumentError} for `to` before `from`, a range over the limit, MINUTE outside realtime retention, too many points
   */
  series<V extends SeriesView>(
    view: V,
    key: ViewKeys[V],
    range: { from: number; to: number; granularity: Granularity },
    ctx?: AnswerContext,
  ): Promise<SeriesAnswer<ViewFigures[V]>>;
  /**
   * Sessions of the user whose start is in `[from, to)`: a session belongs to the layer covering
   * its start.
   * @throws {ArgumentError} for `to` before `from` or a range over the limit
   */
  sessions(
    userId: string,
    range: { from: number; to: number },
    ctx?: AnswerContext,
  ): Promise<SessionsAnswer>;
  /** The published daily summary of a date (UTC midnight), null when not published. */
  dailySummary(date: number, ctx?: AnswerContext): Promise<DailySummaryRecord | null>;
  /** The user's segment on `date`, or the latest published date when null. */
  userSegment(
    userId: string,
    date: number | null,
    ctx?: AnswerContext,
  ): Promise<UserSegmentRecord | null>;
}

/** One layer's figures of a series summed per bucket index (shared: never mutated). */
type BucketParts<F> = Map<number, F>;

/** A series' figures per bucket and in total (shared: never mutated). */
interface Combined<F> {
  buckets: F[];
  total: F;
}

/** A node of the memo of {@link Combined} results, keyed by the list of parts objects. */
interface PartsNode {
  next: WeakMap<object, PartsNode>;
  results: Map<number, Combined<unknown>>;
}

/** The memo key of a series without parts (all gap). */
const NO_PARTS = {};

function floorTo(t: number, size: number): number {
  return t - (((t % size) + size) % size);
}

function ceilTo(t: number, size: number): number {
  const f = floorTo(t, size);
  return f === t ? t : f + size;
}

/**
 * Creates a merge engine over two stores.
 * @param options stores, retention, limits and clock
 */
export function createMergeEngine(options: MergeEngineOptions): MergeEngine {
  const retentionMs = options.retentionMs ?? 72 * HOUR_MS;
  const maxRangeMs = (options.maxRangeDays ?? 400) * DAY_MS;
  const maxPoints = options.maxPoints ?? 10_000;
  const now = options.now ?? Date.now;
  /** Summed batch parts of multi-hour buckets, by snapshot version, view, key and hours. */
  const batchParts = new Lru<string, unknown>({ maxWeight: options.batchPartCacheSize ?? 20_000 });
  /** A series' batch parts per bucket, by snapshot version, view, key, bucket grid and hours. */
  const batchAnswers = new Lru<string, Promise<BucketParts<unknown>>>({
    maxWeight: options.batchAnswerCacheSize ?? 512,
  });
  /** Buckets and totals of series, by their parts objects (nested) and bucket count. */
  const combined: PartsNode = { next: new WeakMap(), results: new Map() };
  /** Realtime parts per bucket, by the rows object they were summed from. */
  const rtParts = new WeakMap<object, Map<string, BucketParts<unknown>>>();

  async function context(): Promise<AnswerContext> {
    const at = now();
    const [snapshot, status] = await Promise.all([
      options.batch.snapshot(),
      options.realtime.status().catch((e: unknown) => {
        // Realtime unreachable: answer from batch and list the rest as gaps, rather than fail.
        options.onRealtimeError?.(e);
        return { watermark: null, newestEventTime: null, live: false, lag: [] };
      }),
    ]);
    const coverage = coverageAt({
      now: at,
      retentionMs,
      batchThrough: snapshot.batchThrough,
      firstHour: snapshot.firstHour,
      realtimeLive: status.live,
      realtimeWatermark: status.watermark,
    });
    return { now: at, snapshot, status, coverage };
  }

  function checkRange(from: number, to: number): void {
    if (to < from) {
      throw new ArgumentError(
        "to",
        `${new Date(to).toISOString()} is before "from" ${new Date(from).toISOString()}`,
      );
    }
    if (to - from > maxRangeMs) {
      const days = Math.ceil((to - from) / DAY_MS);
      throw new ArgumentError(
        "to",
        `the range spans ${days} days; at most ${maxRangeMs / DAY_MS} days are allowed`,
      );
    }
  }

  function provenance(ctx: AnswerContext, segments: readonly Segment[]): Provenance {
    let newest: number | null = null;
    for (const s of segments) {
      let reflected: number | null = null;
      if (s.layer === "batch") reflected = s.end;
      else if (s.layer === "realtime") {
        const seen = ctx.status.newestEventTime;
        reflected = seen === null ? s.end : Math.min(s.end, Math.max(s.start, seen));
      }
      if (reflected !== null && (newest === null || reflected > newest)) newest = reflected;
    }
    const gaps = gapsOf(segments);
    return {
      batchThrough: ctx.snapshot.batchThrough,
      realtimeWatermark: ctx.status.watermark,
      freshnessMs: newest === null ? null : Math.max(0, ctx.now - newest),
      complete: gaps.length === 0,
      gaps,
    };
  }

  async function series<V extends SeriesView>(
    view: V,
    key: ViewKeys[V],
    range: { from: number; to: number; granularity: Granularity },
    given?: AnswerContext,
  ): Promise<SeriesAnswer<ViewFigures[V]>> {
    const { from, to, granularity } = range;
    checkRange(from, to);
    const size = GRANULARITY_MS[granularity];
    const ctx = given ?? await context();
    if (granularity === "MINUTE" && from < ctx.now - retentionMs) {
      throw new ArgumentError(
        "from",
        `MINUTE points come from realtime views alone, which keep ${
          retentionMs / HOUR_MS
        } hours; ` +
          `${new Date(from).toISOString()} is before ${
            new Date(ctx.now - retentionMs).toISOString()
          } ` +
          `(use HOUR or DAY for older data)`,
      );
    }
    // Batch views have hour precision and realtime views minute precision: HOUR and DAY ranges
    // widen to whole hours, MINUTE ranges to whole minutes; buckets are clipped to the result.
    const precision = granularity === "MINUTE" ? MINUTE_MS : HOUR_MS;
    const aligned: Interval = to > from
      ? { start: floorTo(from, precision), end: ceilTo(to, precision) }
      : { start: from, end: from };
    const first = floorTo(aligned.start, size);
    const count = aligned.end > aligned.start ? (ceilTo(aligned.end, size) - first) / size : 0;
    if (count > maxPoints) {
      throw new ArgumentError(
        "granularity",
        `${granularity} over this range gives ${count} points; at most ${maxPoints} ` +
          `(narrow "from"/"to" or use a coarser granularity)`,
      );
    }
    const segments = planSegments(aligned, ctx.coverage, granularity !== "MINUTE");
    const ops = FIGURES[view] as FigureOps<ViewFigures[V]>;

    // Each layer's contribution is a map bucket index → figures, summed once and shared (never
    // mutated afterwards): batch parts per snapshot version, realtime parts per rows object the
    // realtime store returned (the same object while its answer is reused, at most
    // REALTIME_CACHE_MS). Buckets answered by one layer use its part as it is.
    const reads: Promise<BucketParts<ViewFigures[V]>>[] = [];
    const batchSegments: Segment[] = [];
    for (const s of segments) {
      if (s.layer === "batch") batchSegments.push(s);
      else if (s.layer === "realtime") {
        const lo = floorTo(s.start, MINUTE_MS), hi = ceilTo(s.end, MINUTE_MS);
        reads.push(
          options.realtime.minutes(view, key, lo, hi).then((rows) =>
            realtimeParts(ops, rows, first, size, lo, hi)
          ),
        );
      }
    }
    if (batchSegments.length > 0) {
      reads.push(batchBuckets(view, key, batchSegments, ctx, first, size));
    }
    const { buckets, total: totalFigures } = combine(ops, await Promise.all(reads), count);

    const points: SeriesPoint<ViewFigures[V]>[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const s = first + i * size;
      const bucket = { start: Math.max(s, aligned.start), end: Math.min(s + size, aligned.end) };
      const figures = buckets[i];
      points[i] = {
        ...bucket,
        source: sourceOf(bucket, segments, ctx.snapshot.batchThrough, granularity),
        figures,
      };
    }
    const total: SeriesPoint<ViewFigures[V]> = {
      ...aligned,
      source: sourceOf(aligned, segments, ctx.snapshot.batchThrough, granularity),
      figures: totalFigures,
    };
    return { points, total, provenance: provenance(ctx, segments) };
  }

  /**
   * The buckets and total of a series from its layers' parts. A pure function of the parts, so
   * memoised per parts objects (while they are reused, so is the result; never mutated).
   * A bucket answered by one layer shares that layer's part.
   */
  function combine<F>(
    ops: FigureOps<F>,
    parts: readonly BucketParts<F>[],
    count: number,
  ): Combined<F> {
    // One trie node per parts prefix; its results are those of exactly that list of parts.
    let node = combined;
    for (const part of parts.length > 0 ? parts : [NO_PARTS]) {
      let next = node.next.get(part);
      if (!next) node.next.set(part, next = { next: new WeakMap(), results: new Map() });
      node = next;
    }
    const hit = node.results.get(count) as Combined<F> | undefined;
    if (hit) return hit;
    const buckets: (F | undefined)[] = new Array(count);
    const owned = new Uint8Array(count);
    for (const part of parts) {
      for (const [i, f] of part) {
        const b = buckets[i];
        if (b === undefined) buckets[i] = f;
        else if (owned[i] === 1) ops.addInto(b, f);
        else {
          buckets[i] = ops.addInto(ops.addInto(ops.zero(), b), f);
          owned[i] = 1;
        }
      }
    }
    const total = ops.zero();
    for (let i = 0; i < count; i++) ops.addInto(total, buckets[i] ??= ops.zero());
    const out = { buckets: buckets as F[], total };
    if (node.results.size >= 16) node.results.clear();
    node.results.set(count, out);
    return out;
  }

  /**
   * Realtime minutes summed per bucket. Memoised per rows object: the realtime store hands out
   * the same object while it reuses an answer, so concurrent and repeated requests sum it once.
   */
  function realtimeParts<F>(
    ops: FigureOps<F>,
    rows: Map<number, F>,
    first: number,
    size: number,
    lo: number,
    hi: number,
  ): BucketParts<F> {
    let memo = rtParts.get(rows);
    if (!memo) rtParts.set(rows, memo = new Map());
    const id = `${first}|${size}|${lo}|${hi}`;
    const hit = memo.get(id) as BucketParts<F> | undefined;
    if (hit) return hit;
    const out: BucketParts<F> = new Map();
    for (const [m, f] of rows) {
      if (m < lo || m >= hi) continue; // a store returned a row outside what was asked
      const i = Math.floor((m - first) / size);
      let acc = out.get(i);
      if (!acc) out.set(i, acc = ops.zero());
      ops.addInto(acc, f);
    }
    if (memo.size >= 64) memo.clear();
    memo.set(id, out);
    return out;
  }

  /**
   * The hours of the batch segments summed per bucket. Immutable for a snapshot version, so kept
   * per version, view, key, bucket grid and batch segments in `batchAnswers` (the hours are listed
   * only when that misses); and for buckets of several hours (DAY) each bucket's sum is also kept
   * in `batchParts`, so other ranges over the same days reuse it.
   */
  async function batchBuckets<V extends SeriesView>(
    view: V,
    key: ViewKeys[V],
    segments: readonly Interval[],
    ctx: AnswerContext,
    first: number,
    size: number,
  ): Promise<BucketParts<ViewFigures[V]>> {
    const ops = FIGURES[view] as FigureOps<ViewFigures[V]>;
    const keyText = JSON.stringify(key);
    const spans = segments.map((s) => `${s.start}-${s.end},`).join("");
    const answerKey = `${ctx.snapshot.version}|${view}|${keyText}|${first}|${size}|${spans}`;
    const cached = batchAnswers.get(answerKey) as
      | Promise<BucketParts<ViewFigures[V]>>
      | undefined;
    if (cached) return await cached;
    const loading = (async () => {
      const byBucket = new Map<number, number[]>();
      for (const s of segments) {
        for (let h = s.start; h < s.end; h += HOUR_MS) {
          const i = Math.floor((h - first) / size);
          let list = byBucket.get(i);
          if (!list) byBucket.set(i, list = []);
          list.push(h);
        }
      }
      const memoKey = (list: number[]) =>
        `${ctx.snapshot.version}|${view}|${keyText}|${list[0]}|${list.length}`;
      const out: BucketParts<ViewFigures[V]> = new Map();
      const missing: number[] = [];
      for (const [i, list] of byBucket) {
        const hit = list.length > 1 ? batchParts.get(memoKey(list)) : undefined;
        if (hit) {
          out.set(i, hit as ViewFigures[V]);
          byBucket.delete(i);
        } else missing.push(...list);
      }
      if (missing.length === 0) return out;
      const rows = await ctx.snapshot.hours(view, key, missing);
      for (const [i, list] of byBucket) {
        let part: ViewFigures[V] | undefined;
        for (const h of list) {
          const f = rows.get(h);
          if (f) ops.addInto(part ??= ops.zero(), f);
        }
        if (list.length > 1) batchParts.set(memoKey(list), part ?? ops.zero());
        if (part) out.set(i, part);
      }
      return out;
    })();
    batchAnswers.set(answerKey, loading);
    loading.catch(() => batchAnswers.delete(answerKey));
    return await loading;
  }

  async function sessions(
    userId: string,
    range: { from: number; to: number },
    given?: AnswerContext,
  ): Promise<SessionsAnswer> {
    checkRange(range.from, range.to);
    const ctx = given ?? await context();
    const segments = planSegments({ start: range.from, end: range.to }, ctx.coverage);
    const parts = await Promise.all(
      segments.map((s) =>
        s.layer === "batch"
          ? ctx.snapshot.sessions(userId, s.start, s.end)
          : s.layer === "realtime"
          ? options.realtime.sessions(userId, s.start, s.end)
          : Promise.resolve([])
      ),
    );
    const seen = new Set<string>();
    const out = [];
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      for (const rec of parts[i]) {
        // Ownership by start: a store row outside its segment belongs to the other layer.
        if (rec.start < s.start || rec.start >= s.end) continue;
        const id = `${rec.sessionId}\u0000${rec.start}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(rec);
      }
    }
    out.sort((a, b) => a.start - b.start || (a.sessionId < b.sessionId ? -1 : 1));
    return { sessions: out, provenance: provenance(ctx, segments) };
  }

  return {
    context,
    series,
    sessions,
    async dailySummary(date, given) {
      const ctx = given ?? await context();
      return await ctx.snapshot.dailySummary(date);
    },
    async userSegment(userId, date, given) {
      const ctx = given ?? await context();
      return await ctx.snapshot.userSegment(userId, date);
    },
  };
}
