/**
 * @module
 * `user_segmentation`: per user, over the lookback window ending with the target day, an
 * engagement score, its segment and three dimensions. Published only for complete days.
 *
 * The formulas live in {@link segmentFeatures} and {@link SEGMENT_RULES} only; batch/README.md
 * states them.
 */
import { lit } from "./_sql.ts";
import { inDays, nextDay, type ViewContext, type ViewDef } from "./_view.ts";

/**
 * Per-user inputs over the window (`win`: a condition on the hour start `hs` selecting the
 * window's events): the counts summed from the per-user hours (table `uh`, CDC excluded), the
 * distinct courses of course, video and assessment events and the distinct devices of auth events.
 */
export function segmentFeatures(win: string): string {
  return `
  WITH c AS (
    SELECT user_id,
      sum(logins)::BIGINT AS logins,
      sum(app_events)::BIGINT AS app_events,
      sum(clickstream_events)::BIGINT AS clicks,
      sum(video_plays)::BIGINT AS video_plays,
      sum(video_completes)::BIGINT AS video_completes,
      sum(assessments_graded)::BIGINT AS assessments_graded,
      sum(courses_completed)::BIGINT AS courses_completed
    FROM uh WHERE user_id IS NOT NULL AND ${win} GROUP BY user_id
  ), cc AS (
    SELECT user_id, count(DISTINCT course_id) AS courses FROM ev
    WHERE tk IN ('COURSE', 'VIDEO', 'ASSESSMENT') AND user_id IS NOT NULL AND ${win}
    GROUP BY user_id
  ), dv AS (
    SELECT user_id, count(DISTINCT device) AS devices FROM ev
    WHERE tk = 'AUTH' AND user_id IS NOT NULL AND ${win}
    GROUP BY user_id
  )
  SELECT c.*, coalesce(cc.courses, 0) AS courses, coalesce(dv.devices, 0) AS devices
  FROM c LEFT JOIN cc USING (user_id) LEFT JOIN dv USING (user_id)`;
}

/**
 * Score, segment and dimensions (generator/README.md), over features `f` joined with `sessions`
 * (clickstream sessions starting in the window) and `lookback_days`. The score is summed in
 * integer tenths, so it is exact.
 */
export const SEGMENT_RULES = `
  SELECT *,
    CASE WHEN engagement_score > 100 THEN 'VIP'
      WHEN engagement_score >= 50 THEN 'ACTIVE'
      WHEN engagement_score >= 20 THEN 'REGULAR'
      ELSE 'INACTIVE' END AS segment,
    CASE WHEN sessions >= 5 * lookback_days THEN 'VERY_HIGH'
      WHEN sessions >= 2 * lookback_days THEN 'HIGH'
      WHEN 2 * sessions >= lookback_days THEN 'MEDIUM'
      ELSE 'LOW' END AS session_frequency,
    CASE WHEN courses >= 5 THEN 'DIVERSE' WHEN courses >= 2 THEN 'SELECTED'
      ELSE 'LIMITED' END AS content_interest,
    CASE WHEN devices >= 2 THEN 'MULTI_DEVICE' ELSE 'SINGLE_DEVICE' END AS device_preference
  FROM (
    SELECT *, (20 * logins + 5 * app_events + 2 * clicks + 10 * video_plays + 50 * video_completes
      + 50 * assessments_graded + 100 * courses_completed) / 10.0 AS engagement_score
    FROM f
  )`;

/** Dates of the window ending with `date`, oldest first. */
export function windowDates(date: string, lookbackDays: number): string[] {
  const end = Date.parse(`${date}T00:00:00Z`);
  const out: string[] = [];
  for (let i = lookbackDays - 1; i >= 0; i--) {
    out.push(new Date(end - i * 86_400_000).toISOString().slice(0, 10));
  }
  return out;
}

/** The user segmentation view. */
export const userSegmentation: ViewDef = {
  name: "user_segmentation",
  writeCost: 31,
  job: "user_segmentation",
  daily: true,
  needsSessions: true,
  needsUserHours: true,
  // The window, plus a day on each side so its sessions are whole.
  reads: (ctx) => [-ctx.lookbackDays, 1],
  columns: [
    { name: "user_id", type: "VARCHAR", doc: "user (any non-CDC event in the window)" },
    { name: "date", type: "VARCHAR", doc: "target day YYYY-MM-DD (last day of the window)" },
    { name: "engagement_score", type: "DOUBLE", doc: "see batch/README.md" },
    { name: "segment", type: "VARCHAR", doc: "VIP, ACTIVE, REGULAR, INACTIVE" },
    { name: "session_frequency", type: "VARCHAR", doc: "VERY_HIGH, HIGH, MEDIUM, LOW" },
    { name: "content_interest", type: "VARCHAR", doc: "DIVERSE, SELECTED, LIMITED" },
    { name: "device_preference", type: "VARCHAR", doc: "MULTI_DEVICE, SINGLE_DEVICE" },
    { name: "lookback_days", type: "BIGINT", doc: "window length in days" },
    { name: "logins", type: "BIGINT", doc: "auth action=login" },
    { name: "app_events", type: "BIGINT", doc: "topic_app_events events" },
    { name: "clicks", type: "BIGINT", doc: "topic_clickstream events" },
    { name: "video_plays", type: "BIGINT", doc: "video action=play" },
    { name: "video_completes", type: "BIGINT", doc: "video action=complete" },
    { name: "assessments_graded", type: "BIGINT", doc: "assessment action=graded" },
    { name: "courses_completed", type: "BIGINT", doc: "course action=completed" },
    { name: "sessions", type: "BIGINT", doc: "clickstream sessions starting in the window" },
    {
      name: "courses",
      type: "BIGINT",
      doc: "distinct course_id of course/video/assessment events",
    },
    { name: "devices", type: "BIGINT", doc: "distinct device of auth events" },
  ],
  sortKey: ["user_id"],
  sql: (ctx: ViewContext) => {
    const dates = windowDates(ctx.date, ctx.lookbackDays);
    const win = inDays("hs", dates[0], nextDay(ctx.date));
    return `
    WITH fe AS (${segmentFeatures(win)}),
    s AS (
      SELECT user_id, count(*) AS sessions FROM sess
      WHERE strftime(epoch_ms(start_ms), '%Y-%m-%d') IN (${dates.map(lit).join(", ")})
      GROUP BY user_id
    ), f AS (
      SELECT fe.*, coalesce(s.sessions, 0) AS sessions, ${ctx.lookbackDays} AS lookback_days
      FROM fe LEFT JOIN s USING (user_id)
    )
    SELECT *, ${lit(ctx.date)} AS date FROM (${SEGMENT_RULES})`;
  },
};
