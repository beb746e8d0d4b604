/**
 * @module
 * `course_engagement`: per course and minute, enrollments, unenrollments, completions and progress
 * events (course topic) and the distinct users with any course, video or assessment event of the
 * course (a mergeable distinct-count sketch). Each (topic, partition) writes its own rows.
 */
import type { ValidEvent } from "../../../shared/events.ts";
import { DistinctSketch } from "../../../shared/sketch/hll.ts";
import type { JobDefinition } from "../../runtime/task.ts";
import { COURSE_ENGAGEMENT } from "../../store/tables.ts";
import { BucketPart, type BucketSpec } from "../parts.ts";
import { viewJob, type ViewJobDeps } from "../view_job.ts";

interface Engagement {
  courseId: string;
  enrollments: number;
  unenrollments: number;
  completions: number;
  progress: number;
  users: DistinctSketch;
}

function courseOf(e: ValidEvent): string | undefined {
  switch (e.topic) {
    case "COURSE":
    case "VIDEO":
    case "ASSESSMENT":
      return e.data.course_id;
    default:
      return undefined;
  }
}

/** Course engagement per (course, minute). */
export const courseEngagement: BucketSpec<Engagement> = {
  table: COURSE_ENGAGEMENT,
  key: courseOf,
  init: (e) => ({
    courseId: courseOf(e)!,
    enrollments: 0,
    unenrollments: 0,
    completions: 0,
    progress: 0,
    users: DistinctSketch.empty(),
  }),
  fold: (s, e) => {
    if (e.topic === "COURSE") {
      switch (e.data.action) {
        case "enrolled":
          s.enrollments++;
          break;
        case "unenrolled":
          s.unenrollments++;
          break;
        case "completed":
          s.completions++;
          break;
        case "progress":
          s.progress++;
          break;
      }
    }
    if (e.topic !== "CDC") s.users.add(e.data.user_id);
  },
  row: (s, start, _end, env) => [
    s.courseId,
    start,
    env.kpart,
    env.topicName,
    s.enrollments,
    s.unenrollments,
    s.completions,
    s.progress,
    s.users.serialize(),
  ],
};

/** The `course_engagement` job. */
export function courseEngagementJob(deps: ViewJobDeps): JobDefinition {
  return viewJob(
    "course_engagement",
    ["COURSE", "VIDEO", "ASSESSMENT"],
    (_topic, env) => [new BucketPart(courseEngagement, env)],
    deps,
  );
}
