import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { APP_EVENT_COUNTS, EVENTS_AGGREGATED } from "../../store/tables.ts";
import { ev, runJob, T0 } from "../_testing.ts";
import { eventAggregationJob } from "./event_aggregation.ts";

const app = (t: number, user: string, type: string, session: string) => ({
  ...ev(t, { event_type: type, app_type: "web", session_id: session }),
  user_id: user,
});

Deno.test("app events count per user, type and minute with their sessions, and over all users by hour", async () => {
  const store = await runJob(eventAggregationJob, "APP_EVENTS", [
    app(T0 + 10, "u1", "click", "s2"),
    app(T0 + 20, "u1", "click", "s1"),
    app(T0 + 30, "u2", "click", "s3"),
    app(T0 + 40, "u1", "search", "s1"),
  ]);
  const u1click = store.objects(EVENTS_AGGREGATED).find((r) =>
    r.user_id === "u1" && r.event_type === "click"
  )!;
  assertEquals([u1click.window_start, u1click.event_count, u1click.session_ids], [T0, 2, [
    "s1",
    "s2",
  ]]);
  const all = store.objects(APP_EVENT_COUNTS).find((r) => r.event_type === "click")!;
  assertEquals([all.hour, all.minute, all.event_count], [T0, T0, 3]);
});
