/**
 * @module
 * The batch side of every view the serving layer merges with the realtime views, at hour grain.
 * Figures and sketch bytes are those of the realtime rows summed over Kafka partitions
 * (docs/DESIGN.md "Semantics" and "Realtime views").
 */
import { countIf, events, lit, orderedSum, PERCENT, total } from "./_sql.ts";
import { hoursIn, inPublishedHours, type ViewContext, type ViewDef } from "./_view.ts";

const SAME_DAY = (): [number, number] => [0, 0];
const HOUR = { name: "hour", type: "TIMESTAMP", doc: "start of the UTC hour" };

/** App events per (user, hour, event type, app type): `eventCounts` with any filter. */
export const appEventCounts: ViewDef = {
  name: "app_event_counts",
  writeCost: 35,
  job: "app_event_counts",
  daily: false,
  reads: SAME_DAY,
  columns: [
    { name: "user_id", type: "VARCHAR", doc: "user" },
    HOUR,
    { name: "event_type", type: "VARCHAR", doc: "page_view, click, purchase, scroll, search" },
    { name: "app_type", type: "VARCHAR", doc: "mobile, web, api" },
    { name: "event_count", type: "BIGINT", doc: "topic_app_events events" },
  ],
  sortKey: ["user_id", "hour", "event_type", "app_type"],
  sql: () => `
    SELECT user_id, hs AS hour, event_type, app_type, ${events()} AS event_count
    FROM d_ev WHERE tk = 'APP_EVENTS'
    GROUP BY user_id, hs, event_type, app_type`,
};

/** Per-user activity per hour (`userActivity`). */
export const userActivity: ViewDef = {
  name: "user_activity",
  writeCost: 25,
  job: "user_activity",
  daily: false,
  reads: SAME_DAY,
  columns: [
    { name: "user_id", type: "VARCHAR", doc: "user" },
    HOUR,
    { name: "events", type: "BIGINT", doc: "events of every topic except CDC" },
    { name: "logins", type: "BIGINT", doc: "auth action=login" },
    { name: "video_events", type: "BIGINT", doc: "video_topic events" },
    { name: "assessment_events", type: "BIGINT", doc: "assessment_topic events" },
    { name: "app_events", type: "BIGINT", doc: "topic_app_events events" },
    { name: "course_events", type: "BIGINT", doc: "course_topic events" },
    { name: "notification_events", type: "BIGINT", doc: "notification_topic events" },
    { name: "profile_events", type: "BIGINT", doc: "profile_topic events" },
    { name: "clickstream_events", type: "BIGINT", doc: "topic_clickstream events" },
    { name: "last_seen", type: "TIMESTAMP", doc: "latest event time of the user in the hour" },
  ],
  sortKey: ["user_id", "hour"],
  needsUserHours: true,
  sql: (ctx: ViewContext) => `
    SELECT user_id, hs AS hour, events, logins, video_events, assessment_events, app_events,
      course_events, notification_events, profile_events, clickstream_events,
      epoch_ms(last_ms) AS last_seen
    FROM uh WHERE ${inPublishedHours(ctx)}`,
};

/** Per-course engagement per hour (`courseEngagement`). */
export const courseEngagement: ViewDef = {
  name: "course_engagement",
  writeCost: 35,
  job: "course_engagement",
  daily: false,
  reads: SAME_DAY,
  columns: [
    { name: "course_id", type: "VARCHAR", doc: "course" },
    HOUR,
    { name: "enrollments", type: "BIGINT", doc: "course action=enrolled" },
    { name: "unenrollments", type: "BIGINT", doc: "course action=unenrolled" },
    { name: "completions", type: "BIGINT", doc: "course action=completed" },
    { name: "progress_events", type: "BIGINT", doc: "course action=progress" },
    {
      name: "active_users",
      type: "BLOB",
      doc: "DistinctSketch of users with a course, video or assessment event of the course",
    },
    { name: "active_users_exact", type: "BIGINT", doc: "exact distinct count of those users" },
  ],
  sortKey: ["course_id", "hour"],
  sql: () => `
    SELECT *, hll_sketch(users) AS active_users, len(users) AS active_users_exact FROM (
    SELECT course_id, hs AS hour,
      ${countIf("tk = 'COURSE' AND action = 'enrolled'")} AS enrollments,
      ${countIf("tk = 'COURSE' AND action = 'unenrolled'")} AS unenrollments,
      ${countIf("tk = 'COURSE' AND action = 'completed'")} AS completions,
      ${countIf("tk = 'COURSE' AND action = 'progress'")} AS progress_events,
      list(DISTINCT user_id) AS users
    FROM d_ev WHERE tk IN ('COURSE', 'VIDEO', 'ASSESSMENT') AND course_id IS NOT NULL
    GROUP BY course_id, hs)`,
};

/** Per-video views per hour (`videoViews`). */
export const videoViews: ViewDef = {
  name: "video_views",
  writeCost: 41,
  job: "video_views",
  daily: false,
  reads: SAME_DAY,
  columns: [
    { name: "video_id", type: "VARCHAR", doc: "video" },
    HOUR,
    { name: "plays", type: "BIGINT", doc: "action=play" },
    { name: "pauses", type: "BIGINT", doc: "action=pause" },
    { name: "completes", type: "BIGINT", doc: "action=complete" },
    { name: "watch_seconds", type: "DOUBLE", doc: "sum of heartbeat watched_sec" },
    { name: "unique_viewers", type: "BLOB", doc: "DistinctSketch of users with any event" },
    { name: "unique_viewers_exact", type: "BIGINT", doc: "exact distinct count of those users" },
  ],
  sortKey: ["video_id", "hour"],
  sql: () => `
    SELECT *, hll_sketch(users) AS unique_viewers, len(users) AS unique_viewers_exact FROM (
    SELECT video_id, hs AS hour,
      ${total("plays")} AS plays,
      ${total("pauses")} AS pauses,
      ${total("completes")} AS completes,
      coalesce(sum(watched), 0)::DOUBLE AS watch_seconds,
      list(DISTINCT user_id) AS users
    FROM d_ev WHERE tk = 'VIDEO'
    GROUP BY video_id, hs)`,
};

/** Per-assessment scores per hour (`assessmentScores`). */
export const assessmentScores: ViewDef = {
  name: "assessment_scores",
  writeCost: 12,
  job: "assessment_scores",
  daily: false,
  reads: SAME_DAY,
  columns: [
    { name: "assessment_id", type: "VARCHAR", doc: "assessment" },
    HOUR,
    { name: "started", type: "BIGINT", doc: "action=started" },
    { name: "submitted", type: "BIGINT", doc: "action=submitted" },
    { name: "graded", type: "BIGINT", doc: "action=graded" },
    { name: "sum_percent", type: "DOUBLE", doc: "Σ 100·score/max_score of graded events" },
    { name: "min_percent", type: "DOUBLE", doc: "min percent (NULL when graded = 0)" },
    { name: "max_percent", type: "DOUBLE", doc: "max percent (NULL when graded = 0)" },
    { name: "percent_sketch", type: "BLOB", doc: "QuantileSketch of the graded percents" },
  ],
  sortKey: ["assessment_id", "hour"],
  sql: () => `
    SELECT assessment_id, hs AS hour,
      ${countIf("action = 'started'")} AS started,
      ${countIf("action = 'submitted'")} AS submitted,
      ${countIf("action = 'graded'")} AS graded,
      ${orderedSum(`CASE WHEN action = 'graded' THEN ${PERCENT} END`)} AS sum_percent,
      min(${PERCENT}) FILTER (WHERE action = 'graded') AS min_percent,
      max(${PERCENT}) FILTER (WHERE action = 'graded') AS max_percent,
      dd_sketch(coalesce(list(${PERCENT}) FILTER (WHERE action = 'graded'), []::DOUBLE[]))
        AS percent_sketch
    FROM d_ev WHERE tk = 'ASSESSMENT'
    GROUP BY assessment_id, hs`,
};

/** Notification funnel per channel and hour. */
export const notificationFunnel: ViewDef = {
  name: "notification_funnel",
  writeCost: 7,
  job: "notification_funnel",
  daily: false,
  reads: SAME_DAY,
  columns: [
    { name: "channel", type: "VARCHAR", doc: "email, push, sms, in_app" },
    HOUR,
    { name: "sent", type: "BIGINT", doc: "action=sent" },
    { name: "delivered", type: "BIGINT", doc: "action=delivered" },
    { name: "opened", type: "BIGINT", doc: "action=opened" },
    { name: "clicked", type: "BIGINT", doc: "action=clicked" },
    { name: "failed", type: "BIGINT", doc: "action=failed" },
  ],
  sortKey: ["channel", "hour"],
  sql: () => `
    SELECT channel, hs AS hour,
      ${total("sent")} AS sent,
      ${total("delivered")} AS delivered,
      ${total("opened")} AS opened,
      ${total("clicked")} AS clicked,
      ${total("failed")} AS failed
    FROM d_ev WHERE tk = 'NOTIFICATION'
    GROUP BY channel, hs`,
};

/** Session gap: a click more than 30 minutes after the previous one starts a new session. */
export const SESSION_GAP_MS = 30 * 60_000;
/** Pages kept in a session's path. */
export const SESSION_PATH_LIMIT = 50;

/**
 * Clickstream sessions (all days read), one row per session: per `(user_id, session_id)`, clicks
 * ordered by event time (ties by partition, offset), a new session after a gap > 30 min.
 *
 * One hash aggregate per `(user_id, session_id)` collects the clicks as a list sorted by
 * (event time, partition, offset), which is cut where a gap exceeds 30 minutes (no window sort of
 * every click, no ordered aggregate).
 */
export function sessionsSql(): string {
  return `
    WITH g AS (
      SELECT user_id, session_id,
        list_sort(list({'t': event_time, 'p': "partition", 'o': "offset", 'u': page_url})) AS l
      FROM ev WHERE tk = 'CLICKSTREAM' GROUP BY user_id, session_id
    ), b AS (
      SELECT user_id, session_id, l, list_concat([1],
        list_filter(range(2, len(l) + 1), lambda i: l[i].t - l[i - 1].t > ${SESSION_GAP_MS}),
        [len(l) + 1]) AS cut
      FROM g
    ), s AS (
      SELECT user_id, session_id,
        unnest(list_transform(range(1, len(cut)), lambda k: l[cut[k]:cut[k + 1] - 1])) AS x
      FROM b
    )
    SELECT user_id, session_id, x[1].t AS start_ms, x[-1].t AS end_ms, len(x) AS clicks,
      len(list_distinct(list_transform(x, lambda e: e.u))) AS unique_pages,
      list_transform(x[1:${SESSION_PATH_LIMIT}], lambda e: e.u) AS path
    FROM s`;
}

/** Sessions starting in the target day's published hours (`sessions`). */
export const sessions: ViewDef = {
  name: "sessions",
  writeCost: 45,
  job: "sessions",
  daily: false,
  needsSessions: true,
  // The day before (a click just after midnight may continue a session) and after (a session
  // started before midnight goes on).
  reads: () => [-1, 1],
  columns: [
    { name: "user_id", type: "VARCHAR", doc: "user" },
    { name: "session_start", type: "TIMESTAMP", doc: "first click" },
    { name: "session_id", type: "VARCHAR", doc: "the events' session_id" },
    { name: "session_end", type: "TIMESTAMP", doc: "last click" },
    { name: "duration_sec", type: "DOUBLE", doc: "(last − first click) / 1000" },
    { name: "clicks", type: "BIGINT", doc: "clickstream events" },
    { name: "unique_pages", type: "BIGINT", doc: "distinct page_url" },
    { name: "path", type: "VARCHAR[]", doc: "first 50 page_urls in order" },
  ],
  sortKey: ["user_id", "session_start", "session_id"],
  sql: (ctx: ViewContext) => `
    SELECT user_id, epoch_ms(start_ms) AS session_start, session_id, epoch_ms(end_ms) AS session_end,
      (end_ms - start_ms) / 1000.0 AS duration_sec, clicks, unique_pages, path
    FROM sess
    WHERE strftime(epoch_ms(start_ms), '%Y-%m-%d') = ${lit(ctx.date)}
      AND ${hoursIn(ctx, "hour(epoch_ms(start_ms))")}`,
};

/** Every merged view. */
export const MERGED_VIEW_DEFS: readonly ViewDef[] = [
  appEventCounts,
  userActivity,
  courseEngagement,
  videoViews,
  assessmentScores,
  notificationFunnel,
  sessions,
];
