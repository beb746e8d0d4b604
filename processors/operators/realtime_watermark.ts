/**
 * @module
 * The speed layer's reported watermark (docs/DESIGN.md): the minimum of the per-partition
 * watermarks over partitions that received data in the last `idleMs`; idle partitions do not hold
 * it back; when every partition is idle, the maximum.
 */

/** One partition's watermark and when it last received data (wall clock). */
export interface PartitionWatermark {
  watermark: number;
  lastDataAt: number;
}

/**
 * Combines per-partition watermarks.
 * @returns the realtime watermark, or undefined when no partition has one
 */
export function realtimeWatermark(
  partitions: Iterable<PartitionWatermark>,
  now: number,
  idleMs: number,
): number | undefined {
  let activeMin = Infinity, anyMax = -Infinity;
  for (const p of partitions) {
    if (!Number.isFinite(p.watermark)) continue;
    if (p.watermark > anyMax) anyMax = p.watermark;
    if (now - p.lastDataAt < idleMs && p.watermark < activeMin) activeMin = p.watermark;
  }
  if (activeMin !== Infinity) return activeMin;
  return anyMax === -Infinity ? undefined : anyMax;
}
