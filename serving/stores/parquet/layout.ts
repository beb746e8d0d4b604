/**
 * @module
 * How the serving layer reads each batch view's Parquet columns (batch/README.md, batch/jobs):
 * the view name, the key column of its lookups, and a decoder from one Arrow row to the merge
 * engine's figures. Adapting to a changed batch schema means editing this file only.
 */
import type { Table, Vector } from "apache-arrow";
import { DistinctSketch, QuantileSketch } from "../../../shared/sketch/mod.ts";
import type {
  AppEventDims,
  AssessmentFigures,
  CourseFigures,
  DailySummaryRecord,
  SessionRecord,
  UserActivityFigures,
  UserSegmentRecord,
  VideoFigures,
} from "../../merge/types.ts";

/** Typed access to one row of a decoded table. */
export class RowReader {
  #cols = new Map<string, Vector | null>();
  constructor(readonly table: Table, public row = 0) {}

  #col(name: string): Vector | null {
    let c = this.#cols.get(name);
    if (c === undefined) {
      c = this.table.getChild(name);
      if (!c) throw new Error(`batch view has no column "${name}"`);
      this.#cols.set(name, c);
    }
    return c;
  }

  raw(name: string): unknown {
    return this.#col(name)!.get(this.row);
  }

  str(name: string): string {
    return String(this.raw(name));
  }

  /** BIGINT / DOUBLE / INTEGER as a number (0 when null). */
  num(name: string): number {
    const v = this.raw(name);
    return v === null || v === undefined ? 0 : Number(v);
  }

  /** A nullable number. */
  numOrNull(name: string): number | null {
    const v = this.raw(name);
    return v === null || v === undefined ? null : Number(v);
  }

  /** TIMESTAMP as epoch ms (apache-arrow converts any unit to ms). */
  time(name: string): number {
    return Number(this.raw(name));
  }

  timeOrNull(name: string): number | null {
    const v = this.raw(name);
    return v === null || v === undefined ? null : Number(v);
  }

  bytes(name: string): Uint8Array {
    const v = this.raw(name);
    return v instanceof Uint8Array ? v : new Uint8Array(0);
  }

  strings(name: string): string[] {
    const v = this.raw(name) as { toArray(): unknown[] } | null;
    return v ? Array.from(v.toArray(), String) : [];
  }
}

function distinct(bytes: Uint8Array): DistinctSketch {
  return bytes.length === 0 ? DistinctSketch.empty() : DistinctSketch.deserialize(bytes);
}

function quantiles(bytes: Uint8Array): QuantileSketch {
  return bytes.length === 0 ? QuantileSketch.empty() : QuantileSketch.deserialize(bytes);
}

/** A view merged per hour: its file, key column, and row decoder. */
export interface HourViewLayout<F> {
  view: string;
  key: string;
  decode(r: RowReader): F;
}

export const COURSE_ENGAGEMENT: HourViewLayout<CourseFigures> = {
  view: "course_engagement",
  key: "course_id",
  decode: (r) => ({
    enrollments: r.num("enrollments"),
    unenrollments: r.num("unenrollments"),
    completions: r.num("completions"),
    activeUsers: distinct(r.bytes("active_users")),
  }),
};

export const VIDEO_VIEWS: HourViewLayout<VideoFigures> = {
  view: "video_views",
  key: "video_id",
  decode: (r) => ({
    plays: r.num("plays"),
    completes: r.num("completes"),
    watchSeconds: r.num("watch_seconds"),
    uniqueViewers: distinct(r.bytes("unique_viewers")),
  }),
};

export const ASSESSMENT_SCORES: HourViewLayout<AssessmentFigures> = {
  view: "assessment_scores",
  key: "assessment_id",
  decode: (r) => ({
    graded: r.num("graded"),
    sumPercent: r.num("sum_percent"),
    minPercent: r.numOrNull("min_percent"),
    maxPercent: r.numOrNull("max_percent"),
    percents: quantiles(r.bytes("percent_sketch")),
  }),
};

export const USER_ACTIVITY: HourViewLayout<UserActivityFigures> = {
  view: "user_activity",
  key: "user_id",
  decode: (r) => ({
    events: r.num("events"),
    logins: r.num("logins"),
    videoEvents: r.num("video_events"),
    assessmentEvents: r.num("assessment_events"),
    appEvents: r.num("app_events"),
    lastSeen: r.timeOrNull("last_seen"),
  }),
};

/** App events per user, hour, event type and app type. */
export const APP_EVENT_COUNTS = {
  view: "app_event_counts",
  key: "user_id",
  /** Columns needed to sum over users. */
  columns: ["hour", "event_type", "app_type", "event_count"] as const,
  decode: (r: RowReader): { dims: AppEventDims; count: number } => ({
    dims: {
      userId: r.str("user_id"),
      eventType: r.str("event_type"),
      appType: r.str("app_type"),
    },
    count: r.num("event_count"),
  }),
};

export const SESSIONS = {
  view: "sessions",
  key: "user_id",
  decode: (r: RowReader): SessionRecord => ({
    sessionId: r.str("session_id"),
    userId: r.str("user_id"),
    start: r.time("session_start"),
    end: r.time("session_end"),
    durationSec: r.num("duration_sec"),
    clicks: r.num("clicks"),
    uniquePages: r.num("unique_pages"),
    path: r.strings("path"),
  }),
};

export const DAILY_SUMMARY = {
  view: "daily_summary",
  decode: (r: RowReader, date: number): DailySummaryRecord => {
    let eventsByType: { key: string; count: number }[] = [];
    const text = r.raw("events_by_type");
    if (typeof text === "string" && text.length > 0) {
      const parsed = JSON.parse(text) as { key: unknown; count: unknown }[];
      eventsByType = parsed.map((e) => ({ key: String(e.key), count: Number(e.count) }));
    }
    return {
      date,
      totalEvents: r.num("total_events"),
      activeUsers: r.num("active_users"),
      sessions: r.num("sessions"),
      avgSessionDurationSec: r.numOrNull("avg_session_duration_sec"),
      p95SessionDurationSec: r.numOrNull("p95_session_duration_sec"),
      eventsByType,
      logins: r.num("logins"),
      enrollments: r.num("enrollments"),
      completions: r.num("completions"),
    };
  },
};

export const USER_SEGMENTATION = {
  view: "user_segmentation",
  key: "user_id",
  decode: (r: RowReader, date: number): UserSegmentRecord => ({
    userId: r.str("user_id"),
    date,
    segment: r.str("segment") as UserSegmentRecord["segment"],
    engagementScore: r.num("engagement_score"),
    sessionFrequency: r.str("session_frequency") as UserSegmentRecord["sessionFrequency"],
    contentInterest: r.str("content_interest") as UserSegmentRecord["contentInterest"],
    devicePreference: r.str("device_preference") as UserSegmentRecord["devicePreference"],
  }),
};
