/**
 * @module
 * Where a replay must start so that open state is rebuilt exactly: the first offset that still
 * belongs to open state, and the partition's max event time before it (so the watermark evolves
 * identically during the replay).
 */

/** Event time meaning "no event yet". */
export const NO_TIME = -Infinity;

/** The first offset of a piece of open state and the partition's max event time before it. */
export interface ReplayPoint {
  /** First offset whose event belongs to the open state. */
  offset: number;
  /** Max event time of the partition's events before `offset` ({@link NO_TIME} when none). */
  maxEventTime: number;
}

/** The earlier of two replay points (undefined means "no open state"). */
export function earliest(
  a: ReplayPoint | undefined,
  b: ReplayPoint | undefined,
): ReplayPoint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.offset < a.offset ? b : a;
}
