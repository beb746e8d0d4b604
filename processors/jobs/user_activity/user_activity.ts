/**
 * @module
 * `user_activity`: per user and minute, events of every topic except CDC, logins and per-topic
 * counts, last seen (`realtime_user_activity`). Each (topic, partition) writes its own rows (`topic`
 * column). The 5-minute windows sliding every minute ("last 15 minutes") are sums of these minute
 * rows, derived when read (serving/merge/sliding.ts, GraphQL `recentActivity`): materialising them cost
 * five row writes per event for a user seen once in a while.
 */
import type { TopicKey } from "../../../shared/config.ts";
import type { ValidEvent } from "../../../shared/events.ts";
import type { JobDefinition } from "../../runtime/task.ts";
import { USER_ACTIVITY } from "../../store/tables.ts";
import { BucketPart, type BucketSpec } from "../parts.ts";
import { viewJob, type ViewJobDeps } from "../view_job.ts";

/** Topics counted as user activity (every topic except CDC). */
export const ACTIVITY_TOPICS: readonly TopicKey[] = [
  "AUTH",
  "ASSESSMENT",
  "VIDEO",
  "COURSE",
  "PROFILE",
  "NOTIFICATION",
  "APP_EVENTS",
  "CLICKSTREAM",
];

interface Activity {
  userId: string;
  events: number;
  logins: number;
  video: number;
  assessment: number;
  app: number;
  course: number;
  notification: number;
  profile: number;
  lastSeen: number;
}

function userOf(e: ValidEvent): string | undefined {
  return e.topic === "CDC" ? undefined : e.data.user_id;
}

/** Activity per (user, minute). */
export const userActivity: BucketSpec<Activity> = {
  table: USER_ACTIVITY,
  key: userOf,
  init: (e) => ({
    userId: userOf(e)!,
    events: 0,
    logins: 0,
    video: 0,
    assessment: 0,
    app: 0,
    course: 0,
    notification: 0,
    profile: 0,
    lastSeen: -Infinity,
  }),
  fold: (s, e) => {
    s.events++;
    switch (e.topic) {
      case "AUTH":
        if (e.data.action === "login") s.logins++;
        break;
      case "VIDEO":
        s.video++;
        break;
      case "ASSESSMENT":
        s.assessment++;
        break;
      case "APP_EVENTS":
        s.app++;
        break;
      case "COURSE":
        s.course++;
        break;
      case "NOTIFICATION":
        s.notification++;
        break;
      case "PROFILE":
        s.profile++;
        break;
    }
    if (e.eventTime > s.lastSeen) s.lastSeen = e.eventTime;
  },
  row: (s, start, _end, env) => [
    s.userId,
    start,
    env.kpart,
    env.topicName,
    s.events,
    s.logins,
    s.video,
    s.assessment,
    s.app,
    s.course,
    s.notification,
    s.profile,
    s.lastSeen,
  ],
};

/** The `user_activity` job. */
export function userActivityJob(deps: ViewJobDeps): JobDefinition {
  return viewJob(
    "user_activity",
    ACTIVITY_TOPICS,
    (_topic, env) => [new BucketPart(userActivity, env)],
    deps,
  );
}
