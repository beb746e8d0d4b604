/**
 * @module
 * Pure stream operators of the speed layer: watermarks, deduplication, tumbling, sliding and
 * session windows, the per-partition event gate and late counts. None imports Kafka or Cassandra;
 * each exposes the replay point its checkpoint needs.
 */
export { DedupFilter, type DedupOptions } from "./dedup.ts";
export { EventGate, type EventGateOptions, type GateDecision } from "./event_gate.ts";
export {
  type DuePolicy,
  KeyedWindows,
  type KeyedWindowsOptions,
  type WindowCell,
} from "./keyed_windows.ts";
export { LateCounter, type LateHour } from "./late_counter.ts";
export { type PartitionWatermark, realtimeWatermark } from "./realtime_watermark.ts";
export { earliest, NO_TIME, type ReplayPoint } from "./replay_point.ts";
export {
  type Session,
  type SessionChange,
  type SessionOptions,
  SessionWindows,
} from "./session.ts";
export { type SlidingOptions, SlidingWindows } from "./sliding.ts";
export { type TumblingOptions, TumblingWindows } from "./tumbling.ts";
export { type WatermarkOptions, WatermarkTracker } from "./watermark.ts";
