/**
 * Expected rows of the speed layer's tables (DESIGN.md "Realtime views"), summed over partitions,
 * keyed as in Cassandra. At hour grain the time key is named `hour` (the batch views' grain).
 * Distinct sets are exact (sorted ids) and percent sketches are exact value lists.
 */
import { floorHour, floorMinute, MINUTE_MS } from "../shared/time.ts";
import {
  activityFigures,
  assessmentFigures,
  courseFigures,
  funnelFigures,
  videoFigures,
} from "./_reference_figures.ts";
import type { RefEvent } from "./_reference_sets.ts";

/** Tables with one row per entity and time bucket. */
export type BucketView =
  | "events_aggregated_realtime"
  | "app_event_counts_rt"
  | "realtime_user_activity"
  | "user_activity_windows"
  | "realtime_course_engagement"
  | "realtime_video_views"
  | "realtime_assessment_scores"
  | "realtime_notification_funnel";

/** One expected row: key columns and values, column names as in Cassandra. */
export type Row = Record<string, string | number | boolean | null | string[] | number[]>;

export type Grain = "minute" | "hour";

/** Sliding activity windows (recentActivity): 5 minutes long, one ending at every minute boundary. */
export const SLIDING_WINDOW_MS = 5 * MINUTE_MS;

function group(
  events: readonly RefEvent[],
  keyOf: (e: RefEvent) => string | undefined,
): Map<string, RefEvent[]> {
  const m = new Map<string, RefEvent[]>();
  for (const e of events) {
    const k = keyOf(e);
    if (k === undefined) continue;
    let g = m.get(k);
    if (!g) m.set(k, g = []);
    g.push(e);
  }
  return m;
}

/**
 * Expected rows of one table from the events applied to it.
 * @param events the realtime (or batch) event set
 * @param view the table
 * @param grain minute (the Cassandra tables) or hour (the batch views)
 */
export function bucketRows(
  events: readonly RefEvent[],
  view: BucketView,
  grain: Grain = "minute",
): Row[] {
  const bucket = grain === "minute" ? floorMinute : floorHour;
  const tk = grain === "minute" ? "minute" : "hour";
  const split = (k: string) => k.split("\u0000");
  const rows: Row[] = [];
  switch (view) {
    case "events_aggregated_realtime":
    case "app_event_counts_rt": {
      const perUser = view === "events_aggregated_realtime";
      const g = group(
        events,
        (e) =>
          e.topic === "APP_EVENTS"
            ? [bucket(e.eventTime), e.eventType, e.appType, perUser ? e.userId : ""].join("\u0000")
            : undefined,
      );
      for (const [k, list] of g) {
        const [t, eventType, appType, userId] = split(k);
        const time = Number(t);
        if (perUser) {
          rows.push({
            user_id: userId,
            [grain === "minute" ? "window_start" : "hour"]: time,
            event_type: eventType,
            app_type: appType,
            event_count: list.length,
            session_ids: [...new Set(list.map((e) => e.sessionId!))].sort(),
          });
        } else {
          const r: Row = grain === "minute"
            ? { hour: floorHour(time), minute: time }
            : { hour: time };
          rows.push({ ...r, event_type: eventType, app_type: appType, event_count: list.length });
        }
      }
      break;
    }
    case "realtime_user_activity": {
      const g = group(
        events,
        (e) => e.topic === "CDC" ? undefined : `${e.userId}\u0000${bucket(e.eventTime)}`,
      );
      for (const [k, list] of g) {
        const [userId, t] = split(k);
        const f = activityFigures(list);
        rows.push({
          user_id: userId,
          [tk]: Number(t),
          events: f.events,
          logins: f.logins,
          video_events: f.videoEvents,
          assessment_events: f.assessmentEvents,
          app_events: f.appEvents,
          course_events: f.courseEvents,
          notification_events: f.notificationEvents,
          profile_events: f.profileEvents,
          last_seen: f.lastSeen,
        });
      }
      break;
    }
    case "user_activity_windows": {
      // GraphQL recentActivity's windows (derived from the minute rows when read, not stored).
      // Each event counts in the 5 windows [end − 5 min, end) with end = its minute + k·1 min, k=1..5.
      const counts = new Map<string, number>();
      for (const e of events) {
        if (e.topic === "CDC") continue;
        const m = floorMinute(e.eventTime);
        for (let k = 1; k <= SLIDING_WINDOW_MS / MINUTE_MS; k++) {
          const key = `${e.userId}\u0000${m + k * MINUTE_MS}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      for (const [k, n] of counts) {
        const [userId, end] = split(k);
        rows.push({ user_id: userId, window_end: Number(end), events: n });
      }
      break;
    }
    case "realtime_course_engagement": {
      const g = group(
        events,
        (e) =>
          (e.topic === "COURSE" || e.topic === "VIDEO" || e.topic === "ASSESSMENT") &&
            e.courseId !== undefined
            ? `${e.courseId}\u0000${bucket(e.eventTime)}`
            : undefined,
      );
      for (const [k, list] of g) {
        const [courseId, t] = split(k);
        const f = courseFigures(list);
        rows.push({
          course_id: courseId,
          [tk]: Number(t),
          enrollments: f.enrollments,
          unenrollments: f.unenrollments,
          completions: f.completions,
          progress_events: f.progressEvents,
          active_users: f.activeUserIds,
        });
      }
      break;
    }
    case "realtime_video_views": {
      const g = group(
        events,
        (e) => e.topic === "VIDEO" ? `${e.videoId}\u0000${bucket(e.eventTime)}` : undefined,
      );
      for (const [k, list] of g) {
        const [videoId, t] = split(k);
        const f = videoFigures(list);
        rows.push({
          video_id: videoId,
          [tk]: Number(t),
          plays: f.plays,
          pauses: f.pauses,
          completes: f.completes,
          watch_seconds: f.watchSeconds,
          unique_viewers: f.viewerIds,
        });
      }
      break;
    }
    case "realtime_assessment_scores": {
      const g = group(
        events,
        (e) =>
          e.topic === "ASSESSMENT" ? `${e.assessmentId}\u0000${bucket(e.eventTime)}` : undefined,
      );
      for (const [k, list] of g) {
        const [assessmentId, t] = split(k);
        const f = assessmentFigures(list);
        rows.push({
          assessment_id: assessmentId,
          [tk]: Number(t),
          started: f.started,
          submitted: f.submitted,
          graded: f.graded,
          sum_percent: f.percents.reduce((a, b) => a + b, 0),
          min_percent: f.minPercent,
          max_percent: f.maxPercent,
          percents: [...f.percents].sort((a, b) => a - b),
        });
      }
      break;
    }
    case "realtime_notification_funnel": {
      const g = group(
        events,
        (e) => e.topic === "NOTIFICATION" ? `${e.channel}\u0000${bucket(e.eventTime)}` : undefined,
      );
      for (const [k, list] of g) {
        const [channel, t] = split(k);
        rows.push({ channel, [tk]: Number(t), ...funnelFigures(list) });
      }
      break;
    }
  }
  return rows.sort(compareRows);
}

/** Orders rows by their columns in insertion order (keys first), for stable comparisons. */
export function compareRows(a: Row, b: Row): number {
  for (const k of Object.keys(a)) {
    const x = a[k];
    const y = b[k];
    if (Array.isArray(x) || Array.isArray(y)) continue;
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
