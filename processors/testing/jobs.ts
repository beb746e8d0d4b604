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
