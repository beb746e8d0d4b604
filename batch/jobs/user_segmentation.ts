/**
 * @module
 * `user_segmentation`: per user, over the lookback window ending with the target day, an
 * engagement score, its segment and three dimensions. Published only for complete days.
 *
 * The formulas live in {@link SEGMENT_FEATURES} and {@link SEGMENT_RULES} only; batch/README.md
 * states them.
 */
import { lit } from "./_sql.ts";
import type { ViewContext, ViewDef } from "./_view.ts";

/** Per-user inputs over the window (`w_ev`: events of the window, CDC excluded). */
export const SEGMENT_FEATURES = `
  SELECT user_id,
    count(*) AS events,
    count(DISTINCT session_id) FILTER (WHERE tk IN ('APP_EVENTS', 'CLICKSTREAM')) AS sessions,
    count(DISTINCT date) AS active_days,
    count(DISTINCT event_type) FILTER (WHERE tk = 'APP_EVENTS') AS content_types,
    count(DISTINCT coalesce(device, app_type)) FILTER (WHERE tk IN ('AUTH', 'APP_EVENTS')) AS devices
  FROM w_ev GROUP BY user_id`;

/** Score, segment and dimensions from the features (`f`). */
export const SEGMENT_RULES = `
  SELECT *,
    CASE WHEN engagement_score > 100 THEN 'VIP'
      WHEN engagement_score >= 50 THEN 'ACTIVE'
      WHEN engagement_score >= 20 THEN 'REGULAR'
      ELSE 'INACTIVE' END AS segment,
    CASE WHEN sessions >= 20 THEN 'VERY_HIGH' WHEN sessions >= 10 THEN 'HIGH'
      WHEN sessions >= 3 THEN 'MEDIUM' ELSE 'LOW' END AS session_frequency,
    CASE WHEN content_types >= 4 THEN 'DIVERSE' WHEN content_types >= 2 THEN 'SELECTED'
      ELSE 'LIMITED' END AS content_interest,
    CASE WHEN devices > 1 THEN 'MULTI_DEVICE' ELSE 'SINGLE_DEVICE' END AS device_preference
  FROM (SELECT *, events * 1.0 + sessions * 5.0 + active_days * 2.0 AS engagement_score FROM f)`;

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
  job: "user_segmentation",
  daily: true,
  reads: (ctx) => [-(ctx.lookbackDays - 1), 0],
  columns: [
    { name: "user_id", type: "VARCHAR", doc: "user" },
    { name: "date", type: "VARCHAR", doc: "target day YYYY-MM-DD" },
    { name: "engagement_score", type: "DOUBLE", doc: "see batch/README.md" },
    { name: "segment", type: "VARCHAR", doc: "VIP, ACTIVE, REGULAR, INACTIVE" },
    { name: "session_frequency", type: "VARCHAR", doc: "VERY_HIGH, HIGH, MEDIUM, LOW" },
    { name: "content_interest", type: "VARCHAR", doc: "DIVERSE, SELECTED, LIMITED" },
    { name: "device_preference", type: "VARCHAR", doc: "MULTI_DEVICE, SINGLE_DEVICE" },
    { name: "events", type: "BIGINT", doc: "events in the window" },
    { name: "sessions", type: "BIGINT", doc: "distinct sessions in the window" },
    { name: "active_days", type: "BIGINT", doc: "days with an event" },
    { name: "lookback_days", type: "BIGINT", doc: "window length" },
  ],
  sortKey: ["user_id"],
  sql: (ctx: ViewContext) => `
    WITH w_ev AS (
      SELECT * FROM ev WHERE tk <> 'CDC' AND user_id IS NOT NULL
        AND date IN (${windowDates(ctx.date, ctx.lookbackDays).map(lit).join(", ")})
    ), f AS (${SEGMENT_FEATURES})
    SELECT *, ${
    lit(ctx.date)
  } AS date, ${ctx.lookbackDays} AS lookback_days FROM (${SEGMENT_RULES})`,
};
