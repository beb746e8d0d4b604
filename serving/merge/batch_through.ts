/**
 * @module
 * `batchThrough` from the set of published hours (CONTRACTS.md §4): the end of the latest hour H
 * such that every hour from the earliest published one up to H is published.
 */
import { HOUR_MS } from "../../shared/time.ts";

/** Earliest published hour and the end of the contiguous run starting there. */
export interface BatchExtent {
  firstHour: number | null;
  batchThrough: number | null;
}

/**
 * @param hours hour starts (epoch ms, hour-aligned) that are published, in any order
 * @throws {RangeError} when an hour is not aligned to a UTC hour
 */
export function batchExtent(hours: Iterable<number>): BatchExtent {
  const set = new Set<number>();
  let first = Infinity;
  for (const h of hours) {
    if (!Number.isFinite(h) || h % HOUR_MS !== 0) {
      throw new RangeError(`Published hour ${h} is not the start of a UTC hour`);
    }
    set.add(h);
    if (h < first) first = h;
  }
  if (set.size === 0) return { firstHour: null, batchThrough: null };
  let end = first;
  while (set.has(end)) end += HOUR_MS;
  return { firstHour: first, batchThrough: end };
}
