/**
 * @module
 * The `notifications` realtime view job.
 */
export { notificationFunnel, notificationsJob } from "./notifications.ts";
