/**
 * @module
 * The `assessment_scores` realtime view job.
 */
export { assessmentScores, assessmentScoresJob, percentOf } from "./assessment_scores.ts";
