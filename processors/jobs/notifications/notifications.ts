/**
 * @module
 * `notifications`: the notification funnel per channel and minute (sent, delivered, opened,
 * clicked, failed).
 */
import type { ValidEvent } from "../../../shared/events.ts";
import type { JobDefinition } from "../../runtime/task.ts";
import { NOTIFICATION_FUNNEL } from "../../store/tables.ts";
import { BucketPart, type BucketSpec } from "../parts.ts";
import { viewJob, type ViewJobDeps } from "../view_job.ts";

interface Funnel {
  channel: string;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  failed: number;
}

/** The funnel per (channel, minute). */
export const notificationFunnel: BucketSpec<Funnel> = {
  table: NOTIFICATION_FUNNEL,
  key: (e: ValidEvent) => e.topic === "NOTIFICATION" ? e.data.channel : undefined,
  init: (e) => ({
    channel: (e.data as { channel: string }).channel,
    sent: 0,
    delivered: 0,
    opened: 0,
    clicked: 0,
    failed: 0,
  }),
  fold: (s, e) => {
    if (e.topic === "NOTIFICATION") s[e.data.action]++;
  },
  row: (s, start, _end, env) => [
    s.channel,
    start,
    env.kpart,
    s.sent,
    s.delivered,
    s.opened,
    s.clicked,
    s.failed,
  ],
};

/** The `notifications` job. */
export function notificationsJob(deps: ViewJobDeps): JobDefinition {
  return viewJob(
    "notifications",
    ["NOTIFICATION"],
    (_t, env) => [new BucketPart(notificationFunnel, env)],
    deps,
  );
}
