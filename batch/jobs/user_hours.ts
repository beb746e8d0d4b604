/**
 * @module
 * Table `uh`: per user and UTC hour, the event counts that `user_activity`, `daily_summary` and
 * `user_segmentation` read, over every event loaded (CDC excluded). One hash aggregate over every
 * event instead of three (each view grouped all events by user on its own); the views then read
 * a table with a row per active user-hour.
 */
import { events, total } from "./_sql.ts";

/**
 * `uh(user_id, hs, events, logins, video_events, assessment_events, app_events, course_events,
 * notification_events, profile_events, clickstream_events, video_plays, video_completes,
 * assessments_graded, courses_completed, enrollments, last_ms)`: counts are BIGINT, `last_ms` the
 * latest event time (ms) of the user in the hour.
 */
export function userHoursSql(): string {
  return `
    SELECT user_id, hs, ${events()} AS events,
      ${events("tk = 'AUTH' AND action = 'login'")} AS logins,
      ${events("tk = 'VIDEO'")} AS video_events,
      ${events("tk = 'ASSESSMENT'")} AS assessment_events,
      ${events("tk = 'APP_EVENTS'")} AS app_events,
      ${events("tk = 'COURSE'")} AS course_events,
      ${events("tk = 'NOTIFICATION'")} AS notification_events,
      ${events("tk = 'PROFILE'")} AS profile_events,
      ${events("tk = 'CLICKSTREAM'")} AS clickstream_events,
      ${total("plays")} AS video_plays,
      ${total("completes")} AS video_completes,
      ${events("tk = 'ASSESSMENT' AND action = 'graded'")} AS assessments_graded,
      ${events("tk = 'COURSE' AND action = 'completed'")} AS courses_completed,
      ${events("tk = 'COURSE' AND action = 'enrolled'")} AS enrollments,
      max(last_ms) AS last_ms
    FROM ev WHERE tk <> 'CDC'
    GROUP BY user_id, hs`;
}
