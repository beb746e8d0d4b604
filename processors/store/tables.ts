/**
 * @module
 * The realtime tables the view jobs write (infra/schema.cql, docs/DESIGN.md "Realtime views"),
 * described once: key columns first, in primary-key order, then value columns. Row values travel
 * in exactly this column order. Times are epoch ms (`timestamp`), sketches are bytes (`blob`).
 */

/** CQL column types used by the realtime tables. */
export type CqlType =
  | "text"
  | "int"
  | "bigint"
  | "double"
  | "boolean"
  | "timestamp"
  | "blob"
  | "set<text>"
  | "frozen<list<text>>";

/** A column: name and type. */
export interface Column {
  name: string;
  type: CqlType;
}

/** A realtime table. */
export interface TableSpec {
  name: string;
  /** Partition key columns. */
  partitionKey: readonly Column[];
  /** Clustering columns, in order. */
  clustering: readonly Column[];
  /** Non-key columns. */
  values: readonly Column[];
}

/** Every column of a table in row order: partition key, clustering, values. */
export function columnsOf(t: TableSpec): Column[] {
  return [...t.partitionKey, ...t.clustering, ...t.values];
}

/** Number of primary-key columns. */
export function keyLength(t: TableSpec): number {
  return t.partitionKey.length + t.clustering.length;
}

function cols(spec: string): Column[] {
  return spec.trim().split(/\s*,\s*/).map((c) => {
    const [name, type] = c.split(/\s+/);
    return { name, type: type as CqlType };
  });
}

/** A table spec from its CQL column lists (partition key, clustering columns, values). */
export function table(name: string, pk: string, ck: string, values: string): TableSpec {
  return { name, partitionKey: cols(pk), clustering: cols(ck), values: cols(values) };
}

/** App events per user per minute (the seed's event aggregation job). */
export const EVENTS_AGGREGATED = table(
  "events_aggregated_realtime",
  "user_id text",
  "window_start timestamp, event_type text, app_type text, kpart int",
  "event_count bigint, session_ids set<text>",
);

/** App events of all users per minute, partitioned by hour. */
export const APP_EVENT_COUNTS = table(
  "app_event_counts_rt",
  "hour timestamp",
  "minute timestamp, event_type text, app_type text, kpart int",
  "event_count bigint",
);

/** Activity per user and minute; one row per source topic (`topic`). */
export const USER_ACTIVITY = table(
  "realtime_user_activity",
  "user_id text",
  "minute timestamp, kpart int, topic text",
  "events bigint, logins bigint, video_events bigint, assessment_events bigint, " +
    "app_events bigint, course_events bigint, notification_events bigint, " +
    "profile_events bigint, last_seen timestamp",
);

/** Course engagement per minute; per source topic (course, video, assessment). */
export const COURSE_ENGAGEMENT = table(
  "realtime_course_engagement",
  "course_id text",
  "minute timestamp, kpart int, topic text",
  "enrollments bigint, unenrollments bigint, completions bigint, progress_events bigint, " +
    "active_users blob",
);

/** Video views per minute. */
export const VIDEO_VIEWS = table(
  "realtime_video_views",
  "video_id text",
  "minute timestamp, kpart int",
  "plays bigint, pauses bigint, completes bigint, watch_seconds double, unique_viewers blob",
);

/** Assessment scores per minute. */
export const ASSESSMENT_SCORES = table(
  "realtime_assessment_scores",
  "assessment_id text",
  "minute timestamp, kpart int",
  "started bigint, submitted bigint, graded bigint, sum_percent double, min_percent double, " +
    "max_percent double, percent_sketch blob",
);

/** Notification funnel per channel and minute. */
export const NOTIFICATION_FUNNEL = table(
  "realtime_notification_funnel",
  "channel text",
  "minute timestamp, kpart int",
  "sent bigint, delivered bigint, opened bigint, clicked bigint, failed bigint",
);

/** Clickstream sessions (keyed by start; rows move when the start moves). */
export const CLICKSTREAM_SESSIONS = table(
  "clickstream_sessions",
  "user_id text",
  "session_start timestamp, session_id text",
  "session_end timestamp, duration_sec double, clicks int, unique_pages int, path frozen<list<text>>, " +
    "closed boolean, kpart int",
);

/** Late events per view (job), arrival hour, topic and partition. */
export const LATE_EVENTS = table(
  "late_events",
  "view text",
  "hour timestamp, topic text, kpart int",
  "late bigint",
);

/** Every table the view jobs write. */
export const VIEW_TABLES: readonly TableSpec[] = [
  EVENTS_AGGREGATED,
  APP_EVENT_COUNTS,
  USER_ACTIVITY,
  COURSE_ENGAGEMENT,
  VIDEO_VIEWS,
  ASSESSMENT_SCORES,
  NOTIFICATION_FUNNEL,
  CLICKSTREAM_SESSIONS,
  LATE_EVENTS,
];
