/**
 * @module
 * `assessment_scores`: per assessment and minute, started/submitted/graded counts and, over graded
 * events, the exact sum, min and max of percent = 100 · score / max_score plus a DDSketch of the
 * percents for p50/p95.
 */
import type { ValidEvent } from "../../../shared/events.ts";
import { QuantileSketch } from "../../../shared/sketch/quantile.ts";
import type { JobDefinition } from "../../runtime/task.ts";
import { ASSESSMENT_SCORES } from "../../store/tables.ts";
import { BucketPart, type BucketSpec } from "../parts.ts";
import { viewJob, type ViewJobDeps } from "../view_job.ts";

interface Scores {
  assessmentId: string;
  started: number;
  submitted: number;
  graded: number;
  sum: number;
  min: number;
  max: number;
  sketch: QuantileSketch;
}

/** The percent of a graded assessment event. */
export function percentOf(score: number, maxScore: number): number {
  return (100 * score) / maxScore;
}

/** Assessment scores per (assessment, minute). */
export const assessmentScores: BucketSpec<Scores> = {
  table: ASSESSMENT_SCORES,
  key: (e: ValidEvent) => e.topic === "ASSESSMENT" ? e.data.assessment_id : undefined,
  init: (e) => ({
    assessmentId: (e.data as { assessment_id: string }).assessment_id,
    started: 0,
    submitted: 0,
    graded: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    sketch: QuantileSketch.empty(),
  }),
  fold: (s, e) => {
    if (e.topic !== "ASSESSMENT") return;
    const d = e.data;
    if (d.action === "started") s.started++;
    else if (d.action === "submitted") s.submitted++;
    else if (d.action === "graded") {
      const p = percentOf(d.score!, d.max_score!);
      s.graded++;
      s.sum += p;
      if (p < s.min) s.min = p;
      if (p > s.max) s.max = p;
      s.sketch.add(p);
    }
  },
  row: (s, start, _end, env) => [
    s.assessmentId,
    start,
    env.kpart,
    s.started,
    s.submitted,
    s.graded,
    s.sum,
    s.graded > 0 ? s.min : null,
    s.graded > 0 ? s.max : null,
    s.sketch.serialize(),
  ],
};

/** The `assessment_scores` job. */
export function assessmentScoresJob(deps: ViewJobDeps): JobDefinition {
  return viewJob(
    "assessment_scores",
    ["ASSESSMENT"],
    (_t, env) => [new BucketPart(assessmentScores, env)],
    deps,
  );
}
