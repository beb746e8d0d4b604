import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { USER_ACTIVITY } from "../../store/tables.ts";
import { ev, runJob, T0 } from "../_testing.ts";
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
