import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { QuantileSketch } from "../../../shared/sketch/quantile.ts";
import { ASSESSMENT_SCORES } from "../../store/tables.ts";
import { ev, runJob, T0 } from "../_testing.ts";
import { assessmentScoresJob } from "./assessment_scores.ts";

const a = (t: number, action: string, extra: Record<string, unknown> = {}) =>
  ev(t, { assessment_id: "a1", course_id: "c1", action, ...extra });

Deno.test("graded events give exact sum, min and max of percents and a sketch of them", async () => {
  const store = await runJob(assessmentScoresJob, "ASSESSMENT", [
    a(T0, "started"),
    a(T0 + 1, "submitted"),
    a(T0 + 2, "graded", { score: 45, max_score: 50 }),
    a(T0 + 3, "graded", { score: 1, max_score: 4 }),
  ]);
  const [r] = store.objects(ASSESSMENT_SCORES);
  assertEquals(
    [r.started, r.submitted, r.graded, r.sum_percent, r.min_percent, r.max_percent],
    [1, 1, 2, 115, 25, 90],
  );
  assertEquals(QuantileSketch.deserialize(r.percent_sketch as Uint8Array).count, 2);
});

Deno.test("without graded events min and max stay null", async () => {
  const store = await runJob(assessmentScoresJob, "ASSESSMENT", [a(T0, "started")]);
  const [r] = store.objects(ASSESSMENT_SCORES);
  assertEquals([r.graded, r.min_percent, r.max_percent], [0, null, null]);
});
