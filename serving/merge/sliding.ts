/**
 * @module
 * Sliding windows derived from minute points when read: the window `[end − size, end)` sums the
 * minute points whose start lies in it. The speed layer keeps user activity per minute only (a
 * materialised 5-minute window every minute cost five row writes per event for a user seen once in
 * a while), and this turns the minute series into the "last 15 minutes" windows of GraphQL
 * `recentActivity`.
 */
import { MINUTE_MS } from "../../shared/time.ts";
import type { FigureOps } from "./figures.ts";

/** A minute point: its start and additive figures. */
export interface MinutePoint<F> {
  start: number;
  figures: F;
}

/** One derived window. */
export interface SlidingWindow<F> {
  start: number;
  end: number;
  figures: F;
}

/**
 * Windows of `sizeMs` ending at every minute boundary from `firstEnd` through `lastEnd` (oldest
 * first), each the sum (by `ops`) of the points starting in it.
 */
export function slidingWindows<F>(
  points: readonly MinutePoint<F>[],
  firstEnd: number,
  lastEnd: number,
  sizeMs: number,
  ops: FigureOps<F>,
): SlidingWindow<F>[] {
  const bounds = [["firstEnd", firstEnd], ["lastEnd", lastEnd], ["sizeMs", sizeMs]] as const;
  for (const [name, v] of bounds) {
    if (!Number.isInteger(v) || v % MINUTE_MS !== 0) {
      throw new RangeError(
        `Cannot derive sliding windows: '${name}' must be a whole number of minutes, got ${v}`,
      );
    }
  }
  if (sizeMs <= 0 || lastEnd < firstEnd) {
    throw new RangeError(
      `Cannot derive sliding windows: need sizeMs > 0 and lastEnd ≥ firstEnd, got ${sizeMs}, ${firstEnd}..${lastEnd}`,
    );
  }
  const sorted = [...points].sort((a, b) => a.start - b.start);
  const out: SlidingWindow<F>[] = [];
  let first = 0; // first point starting at or after the current window's start
  for (let end = firstEnd; end <= lastEnd; end += MINUTE_MS) {
    const start = end - sizeMs;
    while (first < sorted.length && sorted[first].start < start) first++;
    const figures = ops.zero();
    for (let i = first; i < sorted.length && sorted[i].start < end; i++) {
      ops.addInto(figures, sorted[i].figures);
    }
    out.push({ start, end, figures });
  }
  return out;
}
