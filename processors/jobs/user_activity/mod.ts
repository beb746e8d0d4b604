/**
 * @module
 * The `user_activity` realtime view job.
 */
export {
  ACTIVITY_TOPICS,
  userActivity,
  userActivityJob,
  userActivitySliding,
} from "./user_activity.ts";
