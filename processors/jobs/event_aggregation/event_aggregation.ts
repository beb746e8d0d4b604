/**
 * @module
 * `event_aggregation` (the seed's job): app events per user, event type, app type and minute, with
 * the sessions seen (`events_aggregated_realtime`), and the same counts over all users partitioned
 * by hour for unfiltered queries (`app_event_counts_rt`).
 */
import type { ValidEvent } from "../../../shared/events.ts";
import { floorHour } from "../../../shared/time.ts";
import type { JobDefinition } from "../../runtime/task.ts";
import { APP_EVENT_COUNTS, EVENTS_AGGREGATED } from "../../store/tables.ts";
import { BucketPart, type BucketSpec } from "../parts.ts";
import { viewJob, type ViewJobDeps } from "../view_job.ts";

interface UserAppEvents {
  userId: string;
  eventType: string;
  appType: string;
  count: number;
  sessions: Set<string>;
}

/** App events per (user, event type, app type, minute). */
export const userAppEvents: BucketSpec<UserAppEvents> = {
  table: EVENTS_AGGREGATED,
  key: (e: ValidEvent) =>
    e.topic === "APP_EVENTS"
      ? `${e.data.user_id}\u0000${e.data.event_type}\u0000${e.data.app_type}`
      : undefined,
  init: (e) => {
    const d = e.data as { user_id: string; event_type: string; app_type: string };
    return {
      userId: d.user_id,
      eventType: d.event_type,
      appType: d.app_type,
      count: 0,
      sessions: new Set(),
    };
  },
  fold: (s, e) => {
    s.count++;
    s.sessions.add((e.data as { session_id: string }).session_id);
  },
  row: (s, start, _end, env) => [
    s.userId,
    start,
    s.eventType,
    s.appType,
    env.kpart,
    s.count,
    [...s.sessions].sort(),
  ],
};

interface AppEventCount {
  eventType: string;
  appType: string;
  count: number;
}

/** App events of all users per (event type, app type, minute), partitioned by hour. */
export const appEventCounts: BucketSpec<AppEventCount> = {
  table: APP_EVENT_COUNTS,
  key: (e: ValidEvent) =>
    e.topic === "APP_EVENTS" ? `${e.data.event_type}\u0000${e.data.app_type}` : undefined,
  init: (e) => {
    const d = e.data as { event_type: string; app_type: string };
    return { eventType: d.event_type, appType: d.app_type, count: 0 };
  },
  fold: (s) => {
    s.count++;
  },
  row: (
    s,
    start,
    _end,
    env,
  ) => [floorHour(start), start, s.eventType, s.appType, env.kpart, s.count],
};

/** The `event_aggregation` job. */
export function eventAggregationJob(deps: ViewJobDeps): JobDefinition {
  return viewJob(
    "event_aggregation",
    ["APP_EVENTS"],
    (_topic, env) => [new BucketPart(userAppEvents, env), new BucketPart(appEventCounts, env)],
    deps,
  );
}
