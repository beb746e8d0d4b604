/**
 * @module
 * The traffic generator and the reference calculator. See generator/README.md.
 */
export {
  generate,
  type GeneratedRecord,
  type GeneratorOptions,
  type RecordKind,
} from "./generate.ts";
export {
  type Assessment,
  type Course,
  createPopulation,
  type Device,
  type DeviceType,
  type Population,
  type PopulationOptions,
  type User,
  type Video,
} from "./population.ts";
export { type SimEvent, Traffic, type TrafficOptions } from "./traffic.ts";
export {
  malform,
  type Malformed,
  MALFORMED_REASONS,
  type MalformOptions,
  reasonsFor,
} from "./malformed.ts";
export {
  type ProduceOptions,
  type ProduceProgress,
  produceRecords,
  type ProduceResult,
} from "./produce.ts";
export { createJsonlWriter, type JsonlWriter, readJsonl, writeJsonl } from "./jsonl.ts";
export {
  type ActivityFigures,
  type AssessmentFigures,
  type Bucket,
  type CourseFigures,
  type DailySummary,
  type EventCountArgs,
  type EventCountPoint,
  type EventCounts,
  type FunnelFigures,
  type Granularity,
  LATE_VIEW_TOPICS,
  percentile,
  type RangeArgs,
  type RealtimeView,
  Reference,
  type ReferenceInput,
  type ReferenceOptions,
  type RefEvent,
  type RefRejection,
  type RefSession,
  type Row,
  type Semantics,
  type Series,
  type Source,
  type UserActivity,
  type UserSegment,
  type VideoFigures,
} from "./reference.ts";
export {
  type ContentInterest,
  type DevicePreference,
  ENGAGEMENT_WEIGHTS_TENTHS,
  type Segment,
  type SegmentOptions,
  type SessionFrequency,
} from "./_reference_segment.ts";
export { SESSION_GAP_MS } from "./_reference_figures.ts";
export { SLIDING_WINDOW_MS } from "./_reference_rows.ts";
