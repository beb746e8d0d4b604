/**
 * @module
 * The `course_engagement` realtime view job.
 */
export { courseEngagement, courseEngagementJob } from "./course_engagement.ts";
