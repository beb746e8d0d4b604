/**
 * @module
 * The stream jobs: the realtime view jobs, the archiver, and the registry `deno task process`
 * builds them from.
 */
import { archiverJob } from "./archiver/mod.ts";
import { cdcJobFromDeps } from "./cdc/wiring.ts";
import { enrichmentJobFromDeps } from "./enrichment/wiring.ts";
import { assessmentScoresJob } from "./assessment_scores/mod.ts";
import { clickstreamAnalysisJob } from "./clickstream_analysis/mod.ts";
import { courseEngagementJob } from "./course_engagement/mod.ts";
import { eventAggregationJob } from "./event_aggregation/mod.ts";
import { notificationsJob } from "./notifications/mod.ts";
import { userActivityJob } from "./user_activity/mod.ts";
import { videoViewsJob } from "./video_views/mod.ts";
import type { JobDefinition } from "../runtime/task.ts";
import { JobRegistry } from "./registry.ts";
import type { ViewJobDeps } from "./view_job.ts";

export { type JobDeps, type JobFactory, JobRegistry } from "./registry.ts";
export { viewJob, type ViewJobDeps } from "./view_job.ts";
export {
  loadedTime,
  storedTime,
  type ViewPart,
  ViewTask,
  type ViewTaskOptions,
} from "./view_task.ts";
export { BucketPart, type BucketSpec, SlidingPart } from "./parts.ts";

/** The realtime view jobs (everything but the archiver), in a stable order. */
export function builtinViewJobs(deps: ViewJobDeps): JobDefinition[] {
  return [
    eventAggregationJob(deps),
    clickstreamAnalysisJob(deps),
    userActivityJob(deps),
    courseEngagementJob(deps),
    videoViewsJob(deps),
    assessmentScoresJob(deps),
    notificationsJob(deps),
  ];
}

/** A registry with every job implemented so far. */
export function builtinJobRegistry(): JobRegistry {
  return new JobRegistry()
    .register("event_aggregation", eventAggregationJob)
    .register("clickstream_analysis", clickstreamAnalysisJob)
    .register("user_activity", userActivityJob)
    .register("course_engagement", courseEngagementJob)
    .register("video_views", videoViewsJob)
    .register("assessment_scores", assessmentScoresJob)
    .register("notifications", notificationsJob)
    .register("archiver", (d) => archiverJob(d.config, { log: d.log, metrics: d.metrics }))
    .register("cdc_transformation", cdcJobFromDeps)
    .register("data_enrichment", (d) => enrichmentJobFromDeps(d));
}
