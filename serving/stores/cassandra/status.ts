/**
 * @module
 * The speed layer's status from its `stream_status` rows (one per input partition, written about
 * once a second by the processors): `realtimeWatermark` is the minimum watermark over partitions
 * that had data within IDLE_PARTITION_MS (idle ones do not hold it back), or the maximum when all
 * are idle (DESIGN.md "Watermark"); the layer is live while some row was updated recently.
 */
import type { RealtimeStatus } from "../../merge/types.ts";

/** One `stream_status` row, decoded. Times are epoch ms; a watermark < 0 means none yet. */
export interface StatusRow {
  topic: string;
  partition: number;
  watermark: number | null;
  maxEventTime: number | null;
  lag: number | null;
  lastDataAt: number | null;
  updatedAt: number | null;
}

/** Settings of {@link realtimeStatusOf}. */
export interface StatusSettings {
  now: number;
  idlePartitionMs: number;
  staleAfterMs: number;
}

/** Derives the realtime status from the rows. */
export function realtimeStatusOf(rows: readonly StatusRow[], s: StatusSettings): RealtimeStatus {
  const withWm = rows.filter((r) => r.watermark !== null && r.watermark >= 0);
  const active = withWm.filter((r) =>
    r.lastDataAt !== null && r.lastDataAt >= s.now - s.idlePartitionMs
  );
  let watermark: number | null = null;
  if (active.length > 0) watermark = Math.min(...active.map((r) => r.watermark!));
  else if (withWm.length > 0) watermark = Math.max(...withWm.map((r) => r.watermark!));
  const times = rows.map((r) => r.maxEventTime).filter((t): t is number => t !== null && t >= 0);
  const updated = rows.map((r) => r.updatedAt).filter((t): t is number => t !== null);
  const live = updated.length > 0 && Math.max(...updated) >= s.now - s.staleAfterMs;
  return {
    watermark,
    newestEventTime: times.length > 0 ? Math.max(...times) : null,
    live,
    lag: rows
      .map((r) => ({ topic: r.topic, partition: r.partition, lag: Math.max(0, r.lag ?? 0) }))
      .sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition),
  };
}
