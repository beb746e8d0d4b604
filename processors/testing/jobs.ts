/**
 * @module
 * The realtime view jobs with their topics, for tests that wait on checkpoints.
 */
import type { StreamJob, TopicKey } from "../../shared/config.ts";
import { ACTIVITY_TOPICS } from "../jobs/user_activity/user_activity.ts";

/** Every realtime view job and the logical topics it reads. */
export const VIEW_JOBS: readonly { name: StreamJob; topics: readonly TopicKey[] }[] = [
  { name: "event_aggregation", topics: ["APP_EVENTS"] },
  { name: "clickstream_analysis", topics: ["CLICKSTREAM"] },
  { name: "user_activity", topics: ACTIVITY_TOPICS },
  { name: "course_engagement", topics: ["COURSE", "VIDEO", "ASSESSMENT"] },
  { name: "video_views", topics: ["VIDEO"] },
  { name: "assessment_scores", topics: ["ASSESSMENT"] },
  { name: "notifications", topics: ["NOTIFICATION"] },
];

/** {@link VIEW_JOBS} with the topic names of a configuration (as checkpoint progress takes them). */
export function viewJobsOn(
  topics: Readonly<Record<TopicKey, string>>,
): { name: StreamJob; topics: string[] }[] {
  return VIEW_JOBS.map((j) => ({ name: j.name, topics: j.topics.map((k) => topics[k]) }));
}
