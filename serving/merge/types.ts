/**
 * @module
 * Types of the merge engine: the figures of each merged view, the two store interfaces it reads
 * (batch hours and realtime minutes) and the shape of a merged answer. Pure: no IO here.
 */
import type { DistinctSketch, QuantileSketch } from "../../shared/sketch/mod.ts";

/** Bucket size of a series (CONTRACTS.md §4). */
export type Granularity = "MINUTE" | "HOUR" | "DAY";
/** Which layer answered a bucket; MIXED = summed from both. */
export type Source = "BATCH" | "REALTIME" | "MIXED";

/** A half-open UTC interval `[start, end)` in epoch ms. */
export interface Interval {
  start: number;
  end: number;
}

/** App events (`eventCounts`). */
export interface AppEventFigures {
  count: number;
}

/** `courseEngagement`. */
export interface CourseFigures {
  enrollments: number;
  unenrollments: number;
  completions: number;
  activeUsers: DistinctSketch;
}

/** `videoViews`. */
export interface VideoFigures {
  plays: number;
  completes: number;
  watchSeconds: number;
  uniqueViewers: DistinctSketch;
}

/** `assessmentScores`: graded events only; percents are 100 · score / max_score. */
export interface AssessmentFigures {
  graded: number;
  sumPercent: number;
  /** Exact minimum percent, null when nothing was graded. */
  minPercent: number | null;
  /** Exact maximum percent, null when nothing was graded. */
  maxPercent: number | null;
  percents: QuantileSketch;
}

/** `userActivity`. */
export interface UserActivityFigures {
  events: number;
  logins: number;
  videoEvents: number;
  assessmentEvents: number;
  appEvents: number;
  /** Max event time (epoch ms) of the user's events, null when none. */
  lastSeen: number | null;
}

/** Figures of each merged view. */
export interface ViewFigures {
  appEvents: AppEventFigures;
  courseEngagement: CourseFigures;
  videoViews: VideoFigures;
  assessmentScores: AssessmentFigures;
  userActivity: UserActivityFigures;
}

/** Dimensions of an app-events row (the finest grain both layers keep). */
export interface AppEventDims {
  eventType: string;
  appType: string;
  userId: string;
}

/** The key (entity and filters) of each merged view. */
export interface ViewKeys {
  /** Any subset of filters; all absent = every app event. */
  appEvents: { eventType?: string; appType?: string; userId?: string };
  courseEngagement: { courseId: string };
  videoViews: { videoId: string };
  assessmentScores: { assessmentId: string };
  userActivity: { userId: string };
}

/** A view the engine merges at the time boundary. */
export type SeriesView = keyof ViewFigures;

/** A clickstream session (DESIGN.md "Sessions"). Times are epoch ms. */
export interface SessionRecord {
  sessionId: string;
  userId: string;
  start: number;
  end: number;
  durationSec: number;
  clicks: number;
  uniquePages: number;
  path: string[];
}

/** One row of the `daily_summary` batch view. */
export interface DailySummaryRecord {
  /** UTC midnight of the date (epoch ms). */
  date: number;
  totalEvents: number;
  activeUsers: number;
  sessions: number;
  avgSessionDurationSec: number | null;
  p95SessionDurationSec: number | null;
  eventsByType: { key: string; count: number }[];
  logins: number;
  enrollments: number;
  completions: number;
}

export type Segment = "VIP" | "ACTIVE" | "REGULAR" | "INACTIVE";
export type SessionFrequency = "VERY_HIGH" | "HIGH" | "MEDIUM" | "LOW";
export type ContentInterest = "DIVERSE" | "SELECTED" | "LIMITED";
export type DevicePreference = "MULTI_DEVICE" | "SINGLE_DEVICE";

/** One row of the `user_segmentation` batch view. */
export interface UserSegmentRecord {
  userId: string;
  /** UTC midnight of the date (epoch ms). */
  date: number;
  segment: Segment;
  engagementScore: number;
  sessionFrequency: SessionFrequency;
  contentInterest: ContentInterest;
  devicePreference: DevicePreference;
}

/**
 * One consistent version of the published batch views (one manifest). Every read through a
 * snapshot sees the files that manifest lists, so one answer never mixes two publications.
 */
export interface BatchSnapshot {
  /** Identifies the manifest version (changes whenever anything is republished). */
  readonly version: string;
  /** End of the latest hour H such that every hour from {@link firstHour} to H is published; null when none. */
  readonly batchThrough: number | null;
  /** Start of the earliest published hour; null when none. */
  readonly firstHour: number | null;
  /**
   * Figures per published hour start for `hours` (each an hour start inside
   * `[firstHour, batchThrough)`); hours without rows for the key are absent from the map.
   */
  hours<V extends SeriesView>(
    view: V,
    key: ViewKeys[V],
    hours: readonly number[],
  ): Promise<Map<number, ViewFigures[V]>>;
  /** Sessions of the user whose start is in `[from, to)`, from the batch `sessions` view. */
  sessions(userId: string, from: number, to: number): Promise<SessionRecord[]>;
  /** The published daily summary of the date (UTC midnight), null when not published. */
  dailySummary(date: number): Promise<DailySummaryRecord | null>;
  /** The user's segment of `date`, or of the latest published date when `date` is null. */
  userSegment(userId: string, date: number | null): Promise<UserSegmentRecord | null>;
}

/** Batch views as published by the batch layer (Parquet + manifest, or memory in tests). */
export interface BatchStore {
  /** The current published version; cheap when nothing changed. */
  snapshot(): Promise<BatchSnapshot>;
}

/** Lag of one input partition (Kafka end offset minus the speed layer's next offset). */
export interface TopicLag {
  topic: string;
  partition: number;
  lag: number;
}

/** State of the speed layer as the serving layer sees it. */
export interface RealtimeStatus {
  /** The speed layer has processed event time up to here (DESIGN.md "Watermark"); null when unknown. */
  watermark: number | null;
  /** Newest event time the speed layer has applied (max over partitions); null when unknown. */
  newestEventTime: number | null;
  /**
   * True when the speed layer is keeping up (recent checkpoints or no lag), so realtime views
   * cover event time up to now; false makes coverage end at {@link watermark}.
   */
  live: boolean;
  lag: TopicLag[];
}

/** Realtime views (Cassandra, or memory in tests). Rows are summed over Kafka partitions. */
export interface RealtimeStore {
  status(): Promise<RealtimeStatus>;
  /**
   * Figures per minute start in `[from, to)` (minute-aligned), summed over `kpart`; minutes
   * without rows are absent.
   */
  minutes<V extends SeriesView>(
    view: V,
    key: ViewKeys[V],
    from: number,
    to: number,
  ): Promise<Map<number, ViewFigures[V]>>;
  /** Sessions of the user whose start is in `[from, to)`, open ones included. */
  sessions(userId: string, from: number, to: number): Promise<SessionRecord[]>;
}

/** Provenance of an answer (CONTRACTS.md §4), times in epoch ms. */
export interface Provenance {
  batchThrough: number | null;
  realtimeWatermark: number | null;
  freshnessMs: number | null;
  complete: boolean;
  gaps: Interval[];
}

/** One bucket of a merged series. */
export interface SeriesPoint<F> {
  start: number;
  end: number;
  source: Source;
  figures: F;
}

/** A merged series: every bucket of the aligned range, their total, and provenance. */
export interface SeriesAnswer<F> {
  points: SeriesPoint<F>[];
  total: SeriesPoint<F>;
  provenance: Provenance;
}

/** Sessions with provenance. */
export interface SessionsAnswer {
  sessions: SessionRecord[];
  provenance: Provenance;
}
