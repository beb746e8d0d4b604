/**
 * @module
 * Every batch view, by name, and the `--jobs` names that select them.
 */
import { dailySummary } from "./daily_summary.ts";
import { hourlyAggregate } from "./hourly_aggregate.ts";
import { MERGED_VIEW_DEFS } from "./merged_views.ts";
import { userSegmentation } from "./user_segmentation.ts";
import type { ViewDef } from "./_view.ts";

export type { ViewColumn, ViewContext, ViewDef } from "./_view.ts";
export { MERGED_VIEW_DEFS, SESSION_GAP_MS, SESSION_PATH_LIMIT } from "./merged_views.ts";

/** Every batch view in computing order. */
export const VIEW_DEFS: readonly ViewDef[] = [
  hourlyAggregate,
  dailySummary,
  userSegmentation,
  ...MERGED_VIEW_DEFS,
];

/** `--jobs` names: each view's own name, plus `views` for all merged views. */
export const JOB_NAMES: readonly string[] = [...VIEW_DEFS.map((v) => v.job), "views"];

/**
 * The views selected by `--jobs` names (all when none).
 * @throws {RangeError} naming an unknown job
 */
export function selectViews(jobs: readonly string[] | undefined): ViewDef[] {
  if (!jobs || jobs.length === 0) return [...VIEW_DEFS];
  for (const j of jobs) {
    if (!JOB_NAMES.includes(j)) {
      throw new RangeError(`Unknown batch job "${j}": expected one of ${JOB_NAMES.join(", ")}`);
    }
  }
  return VIEW_DEFS.filter((v) =>
    jobs.includes(v.job) || (jobs.includes("views") && MERGED_VIEW_DEFS.includes(v))
  );
}
