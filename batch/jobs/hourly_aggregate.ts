/**
 * @module
 * `hourly_aggregate`: app events per hour, event type and app type with exact distinct users and
 * sessions (the seed's hourly job).
 */
import { events } from "./_sql.ts";
import type { ViewDef } from "./_view.ts";

/** The hourly aggregate view. */
export const hourlyAggregate: ViewDef = {
  name: "hourly_aggregate",
  writeCost: 18,
  job: "hourly_aggregate",
  daily: false,
  reads: () => [0, 0],
  columns: [
    { name: "hour", type: "TIMESTAMP", doc: "start of the UTC hour" },
    { name: "event_type", type: "VARCHAR", doc: "app event type" },
    { name: "app_type", type: "VARCHAR", doc: "app type" },
    { name: "event_count", type: "BIGINT", doc: "events" },
    { name: "unique_users", type: "BIGINT", doc: "distinct user_id (exact)" },
    { name: "unique_sessions", type: "BIGINT", doc: "distinct session_id (exact)" },
  ],
  sortKey: ["hour", "event_type", "app_type"],
  sql: () => `
    SELECT hs AS hour, event_type, app_type, ${events()} AS event_count,
      count(DISTINCT user_id) AS unique_users, count(DISTINCT session_id) AS unique_sessions
    FROM d_ev WHERE tk = 'APP_EVENTS'
    GROUP BY hs, event_type, app_type`,
};
