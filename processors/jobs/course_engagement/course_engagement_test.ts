import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DistinctSketch } from "../../../shared/sketch/hll.ts";
import { COURSE_ENGAGEMENT } from "../../store/tables.ts";
import { ev, runJob, T0 } from "../_testing.ts";
import { courseEngagementJob } from "./course_engagement.ts";

Deno.test("course actions count and distinct active users are sketched", async () => {
  const c = (user: string, action: string) => ({
    ...ev(T0, { course_id: "c1", action }),
    user_id: user,
  });
  const store = await runJob(courseEngagementJob, "COURSE", [
    c("u1", "enrolled"),
    c("u2", "enrolled"),
    c("u1", "progress"),
    c("u3", "unenrolled"),
    c("u1", "completed"),
  ]);
  const [r] = store.objects(COURSE_ENGAGEMENT);
  assertEquals(
    [r.topic, r.enrollments, r.unenrollments, r.completions, r.progress_events],
    ["t_course", 2, 1, 1, 1],
  );
  assertEquals(DistinctSketch.deserialize(r.active_users as Uint8Array).estimate(), 3);
});
