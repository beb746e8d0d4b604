/**
 * @module
 * Which layer answers which part of a time range. Batch covers `[firstHour, batchThrough)`;
 * realtime covers `[now − retention, end)` where `end` is `now` while the speed layer is live and
 * its watermark otherwise; event time in batch coverage is answered by batch, the rest of
 * realtime coverage by realtime, and whatever is left is a gap. See serving/README.md.
 */
import type { Granularity, Interval, Source } from "./types.ts";

/** What each layer covers at one instant. */
export interface Coverage {
  /** `[firstHour, batchThrough)`, null when nothing is published. */
  batch: Interval | null;
  /** `[now − retention, now or watermark)`, null when empty. */
  realtime: Interval | null;
}

/** Inputs of {@link coverageAt}. */
export interface CoverageInput {
  now: number;
  /** Realtime retention (REALTIME_TTL_SECONDS) in ms. */
  retentionMs: number;
  batchThrough: number | null;
  firstHour: number | null;
  realtimeLive: boolean;
  realtimeWatermark: number | null;
}

/**
 * Coverage of both layers at `now`.
 *
 * Realtime rows live `retention` after their last write and are written no earlier than their
 * event time, so every row with event time ≥ now − retention is still there; older ones may be
 * gone. Up to `now` when the speed layer is live; otherwise only up to its watermark.
 */
export function coverageAt(input: CoverageInput): Coverage {
  const { now, retentionMs } = input;
  const batch = input.batchThrough !== null && input.firstHour !== null &&
      input.firstHour < input.batchThrough
    ? { start: input.firstHour, end: input.batchThrough }
    : null;
  const rtStart = now - retentionMs;
  const rtEnd = input.realtimeLive
    ? now
    : input.realtimeWatermark === null
    ? rtStart
    : Math.min(now, input.realtimeWatermark);
  const realtime = rtEnd > rtStart ? { start: rtStart, end: rtEnd } : null;
  return { batch, realtime };
}

/** Which layer answers a segment of a range. */
export type Layer = "batch" | "realtime" | "gap";

/** A maximal part of a range answered by one layer (or by none). */
export interface Segment extends Interval {
  layer: Layer;
}

function within(t: number, iv: Interval | null): boolean {
  return iv !== null && t >= iv.start && t < iv.end;
}

/**
 * Splits `[range.start, range.end)` into ordered, contiguous segments: batch inside batch
 * coverage, realtime inside realtime coverage outside batch coverage, gap elsewhere.
 * @param range the (aligned) range
 * @param cov coverage of both layers
 * @param useBatch false for MINUTE series, which realtime answers alone
 */
export function planSegments(range: Interval, cov: Coverage, useBatch = true): Segment[] {
  if (!(range.end > range.start)) return [];
  const batch = useBatch ? cov.batch : null;
  const cuts = new Set<number>([range.start, range.end]);
  for (const iv of [batch, cov.realtime]) {
    if (!iv) continue;
    for (const t of [iv.start, iv.end]) if (t > range.start && t < range.end) cuts.add(t);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out: Segment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i], end = points[i + 1];
    const layer: Layer = within(start, batch)
      ? "batch"
      : within(start, cov.realtime)
      ? "realtime"
      : "gap";
    const last = out[out.length - 1];
    if (last && last.layer === layer) last.end = end;
    else out.push({ start, end, layer });
  }
  return out;
}

/** The gap segments of a plan, as intervals. */
export function gapsOf(segments: readonly Segment[]): Interval[] {
  return segments.filter((s) => s.layer === "gap").map(({ start, end }) => ({ start, end }));
}

/**
 * The source of a bucket from the layers of the segments overlapping it: MIXED when both layers
 * answer part of it; when neither does (all gap), the layer that would answer it by the rule
 * (BATCH before batchThrough, REALTIME from it on).
 */
export function sourceOf(
  bucket: Interval,
  segments: readonly Segment[],
  batchThrough: number | null,
  granularity: Granularity,
): Source {
  if (granularity === "MINUTE") return "REALTIME";
  let batch = false, realtime = false;
  for (const s of segments) {
    if (s.end <= bucket.start || s.start >= bucket.end) continue;
    if (s.layer === "batch") batch = true;
    else if (s.layer === "realtime") realtime = true;
  }
  if (batch && realtime) return "MIXED";
  if (batch) return "BATCH";
  if (realtime) return "REALTIME";
  return batchThrough !== null && bucket.start < batchThrough ? "BATCH" : "REALTIME";
}
