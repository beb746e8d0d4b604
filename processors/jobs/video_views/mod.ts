/**
 * @module
 * The `video_views` realtime view job.
 */
export { videoViews, videoViewsJob } from "./video_views.ts";
