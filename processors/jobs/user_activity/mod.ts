/**
 * @module
 * The `user_activity` realtime view job.
 */
export { ACTIVITY_TOPICS, userActivity, userActivityJob } from "./user_activity.ts";
