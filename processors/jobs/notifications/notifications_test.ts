import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { LATE_EVENTS, NOTIFICATION_FUNNEL } from "../../store/tables.ts";
import { ev, MIN, runJob, T0 } from "../_testing.ts";
import { notificationsJob } from "./notifications.ts";

const n = (t: number, channel: string, action: string) =>
  ev(t, { notification_id: "n1", channel, action });

Deno.test("the funnel counts actions per channel and minute", async () => {
  const store = await runJob(notificationsJob, "NOTIFICATION", [
    n(T0, "email", "sent"),
    n(T0 + 1, "email", "delivered"),
    n(T0 + 2, "email", "opened"),
    n(T0 + 3, "push", "failed"),
  ]);
  const email = store.objects(NOTIFICATION_FUNNEL).find((r) => r.channel === "email")!;
  assertEquals([email.sent, email.delivered, email.opened, email.clicked, email.failed], [
    1,
    1,
    1,
    0,
    0,
  ]);
});

Deno.test("an event later than the allowed lateness counts in late_events, not in the view", async () => {
  const store = await runJob(notificationsJob, "NOTIFICATION", [
    n(T0 + 30 * MIN, "email", "sent"),
    n(T0 + 5 * MIN, "sms", "sent"), // minute ends ≤ watermark (30 − 10 min)
  ]);
  assertEquals(store.objects(NOTIFICATION_FUNNEL).map((r) => r.channel), ["email"]);
  const [late] = store.objects(LATE_EVENTS);
  assertEquals([late.view, late.hour, late.topic, late.late], [
    "notifications",
    T0,
    "t_notification",
    1,
  ]);
});

Deno.test("a re-sent copy within the hour counts once", async () => {
  const first = n(T0, "push", "sent");
  const store = await runJob(notificationsJob, "NOTIFICATION", [first, {
    ...first,
    kafkaTs: T0 + 59 * MIN,
  }]);
  assertEquals(store.objects(NOTIFICATION_FUNNEL)[0].sent, 1);
});
