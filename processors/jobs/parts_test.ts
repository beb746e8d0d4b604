/**
 * SlidingPart (no built-in job uses it since the activity windows are derived on read; it stays
 * for jobs that need stored sliding windows): window contents, deferred future windows, and crash
 * replay giving the same rows.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { generate } from "../../generator/generate.ts";
import type { ValidEvent } from "../../shared/events.ts";
import { Sim } from "../runtime/_sim.ts";
import { MemoryViewStore } from "../store/memory_store.ts";
import { table } from "../store/tables.ts";
import { ev, MIN, runJob, T0 } from "./_testing.ts";
import { type BucketSpec, SlidingPart } from "./parts.ts";
import { ACTIVITY_TOPICS } from "./user_activity/user_activity.ts";
import { viewJob, type ViewJobDeps } from "./view_job.ts";

const WINDOWS = table(
  "test_sliding",
  "user_id text",
  "window_end timestamp, kpart int, topic text",
  "events bigint",
);

const perUser: BucketSpec<{ userId: string; events: number }> = {
  table: WINDOWS,
  key: (e: ValidEvent) => e.topic === "CDC" ? undefined : e.data.user_id,
  init: (e) => ({ userId: (e.data as { user_id: string }).user_id, events: 0 }),
  fold: (s) => void s.events++,
  row: (s, _start, end, env) => [s.userId, end, env.kpart, env.topicName, s.events],
};

const slidingJob = (deps: ViewJobDeps) =>
  viewJob("user_activity", ACTIVITY_TOPICS, (_t, env) => [new SlidingPart(perUser, env)], deps);

Deno.test("each event counts in the five 5-minute windows ending after its minute", async () => {
  const store = await runJob(slidingJob, "PROFILE", [
    ev(T0, { changes: { name: "x" } }),
    ev(T0 + 2 * MIN, { changes: {} }),
  ]);
  const byEnd = store.objects(WINDOWS).map((r) => [((r.window_end as number) - T0) / MIN, r.events])
    .sort((x, y) => (x[0] as number) - (y[0] as number));
  assertEquals(byEnd, [[1, 1], [2, 1], [3, 2], [4, 2], [5, 2], [6, 1], [7, 1]]);
});

const START = Date.UTC(2026, 10, 20, 8);

async function run(crashes: number[]) {
  const store = new MemoryViewStore();
  const sim = new Sim({ jobs: [slidingJob({ store, config: { topics: {} as never } })] });
  for (
    const r of generate({
      seed: 11,
      users: 40,
      courses: 5,
      startMs: START,
      endMs: START + 2 * 3_600_000,
      now: START + 2 * 3_600_000,
      totalEvents: 4_000,
      partitions: 3,
      duplicateShare: 0.03,
      outOfOrderShare: 0.05,
      lateShare: 0.02,
      tooLarge: false,
    })
  ) sim.append(r);
  await sim.runCrashing(crashes, { flushEvery: 61 }); // its last, quiet flush writes future windows
  return store.rows(WINDOWS).map((r) => JSON.stringify(r)).sort();
}

Deno.test("deferred sliding windows survive crashes: replay gives the same rows", async () => {
  const clean = await run([]);
  assertEquals(clean.length > 1_000, true);
  assertEquals(await run([300, 1_777, 1_778, 3_500]), clean);
});
