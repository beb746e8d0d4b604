import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { USER_ACTIVITY, USER_ACTIVITY_SLIDING } from "../../store/tables.ts";
import { ev, MIN, runJob, T0 } from "../_testing.ts";
import { userActivityJob } from "./user_activity.ts";

Deno.test("activity counts per user and minute with logins and the source topic", async () => {
  const store = await runJob(userActivityJob, "AUTH", [
    ev(T0 + 1_000, { action: "login" }),
    ev(T0 + 2_000, { action: "logout" }),
    ev(T0 + 3_000, { action: "login" }),
  ]);
  const [r] = store.objects(USER_ACTIVITY);
  assertEquals(
    [r.user_id, r.minute, r.kpart, r.topic, r.events, r.logins, r.video_events, r.last_seen],
    ["u1", T0, 0, "t_auth", 3, 2, 0, T0 + 3_000],
  );
});

Deno.test("each event counts in the five 5-minute windows ending after its minute", async () => {
  const store = await runJob(userActivityJob, "PROFILE", [
    ev(T0, { changes: { name: "x" } }),
    ev(T0 + 2 * MIN, { changes: {} }),
  ]);
  const byEnd = new Map(
    store.objects(USER_ACTIVITY_SLIDING).map((
      r,
    ) => [((r.window_end as number) - T0) / MIN, r.events]),
  );
  assertEquals([...byEnd].sort((x, y) => x[0] - y[0]), [[1, 1], [2, 1], [3, 2], [4, 2], [5, 2], [
    6,
    1,
  ], [7, 1]]);
});
