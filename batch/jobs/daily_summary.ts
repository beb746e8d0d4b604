/**
 * @module
 * `daily_summary`: one row per day (CONTRACTS.md §4 `DailySummary`). Published only for complete
 * days (all 24 hours).
 */
import { events, lit } from "./_sql.ts";
import { inPublishedHours, type ViewContext, type ViewDef } from "./_view.ts";

/** Rank rule of DESIGN.md "Percentiles": the value at 0-based rank floor(q·(n−1)). */
export function rankQuantileSql(sortedList: string, n: string, q: number): string {
  return `CASE WHEN ${n} = 0 THEN NULL ELSE ${sortedList}[floor(${q} * (${n} - 1))::BIGINT + 1] END`;
}

/** The daily summary view. */
export const dailySummary: ViewDef = {
  name: "daily_summary",
  writeCost: 9,
  job: "daily_summary",
  daily: true,
  needsSessions: true,
  reads: () => [-1, 1],
  columns: [
    { name: "date", type: "VARCHAR", doc: "YYYY-MM-DD" },
    { name: "total_events", type: "BIGINT", doc: "events of every topic except CDC" },
    { name: "active_users", type: "BIGINT", doc: "distinct users with any such event" },
    { name: "sessions", type: "BIGINT", doc: "clickstream sessions starting that day" },
    { name: "avg_session_duration_sec", type: "DOUBLE", doc: "mean duration; NULL without" },
    { name: "p95_session_duration_sec", type: "DOUBLE", doc: "rank floor(0.95·(n−1))" },
    {
      name: "events_by_type",
      type: "VARCHAR",
      doc: 'app events by event_type: JSON [{"key": "click", "count": n}, ...] sorted by key',
    },
    { name: "logins", type: "BIGINT", doc: "auth action=login" },
    { name: "enrollments", type: "BIGINT", doc: "course action=enrolled" },
    { name: "completions", type: "BIGINT", doc: "course action=completed" },
  ],
  sortKey: ["date"],
  needsUserHours: true,
  // The counts from the per-user hours (table uh: one row per active user-hour, not per event).
  sql: (ctx: ViewContext) => `
    WITH t AS (
      SELECT coalesce(sum(events), 0) AS total_events, count(DISTINCT user_id) AS active_users,
        coalesce(sum(logins), 0) AS logins, coalesce(sum(enrollments), 0) AS enrollments,
        coalesce(sum(courses_completed), 0) AS completions
      FROM uh WHERE ${inPublishedHours(ctx)}
    ),
    s AS (
      SELECT end_ms - start_ms AS dur_ms FROM sess
      WHERE strftime(epoch_ms(start_ms), '%Y-%m-%d') = ${lit(ctx.date)}
    ),
    sa AS (
      SELECT count(*) AS n, sum(dur_ms) AS total_ms, list_sort(list(dur_ms)) AS sorted FROM s
    ),
    bt AS (
      SELECT coalesce(to_json(list({'key': k, 'count': c} ORDER BY k))::VARCHAR, '[]') AS j
      FROM (SELECT event_type AS k, ${events()} AS c FROM d_ev WHERE tk = 'APP_EVENTS'
        GROUP BY event_type)
    )
    SELECT ${lit(ctx.date)} AS date, t.total_events, t.active_users,
      sa.n AS sessions,
      CASE WHEN sa.n = 0 THEN NULL ELSE sa.total_ms / sa.n / 1000.0 END AS avg_session_duration_sec,
      ${rankQuantileSql("sa.sorted", "sa.n", 0.95)} / 1000.0 AS p95_session_duration_sec,
      bt.j AS events_by_type, t.logins, t.enrollments, t.completions
    FROM t, sa, bt`,
};
