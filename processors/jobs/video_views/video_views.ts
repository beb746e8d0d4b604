/**
 * @module
 * `video_views`: per video and minute, plays, pauses, completes, the sum of heartbeat
 * `watched_sec`, and a distinct-count sketch of the users with any event of the video.
 */
import type { ValidEvent } from "../../../shared/events.ts";
import { DistinctSketch } from "../../../shared/sketch/hll.ts";
import type { JobDefinition } from "../../runtime/task.ts";
import { VIDEO_VIEWS } from "../../store/tables.ts";
import { BucketPart, type BucketSpec } from "../parts.ts";
import { viewJob, type ViewJobDeps } from "../view_job.ts";

interface Views {
  videoId: string;
  plays: number;
  pauses: number;
  completes: number;
  watchSeconds: number;
  viewers: DistinctSketch;
}

/** Video views per (video, minute). */
export const videoViews: BucketSpec<Views> = {
  table: VIDEO_VIEWS,
  key: (e: ValidEvent) => e.topic === "VIDEO" ? e.data.video_id : undefined,
  init: (e) => ({
    videoId: (e.data as { video_id: string }).video_id,
    plays: 0,
    pauses: 0,
    completes: 0,
    watchSeconds: 0,
    viewers: DistinctSketch.empty(),
  }),
  fold: (s, e) => {
    if (e.topic !== "VIDEO") return;
    const d = e.data;
    switch (d.action) {
      case "play":
        s.plays++;
        break;
      case "pause":
        s.pauses++;
        break;
      case "complete":
        s.completes++;
        break;
      case "heartbeat":
        s.watchSeconds += d.watched_sec ?? 0;
        break;
    }
    s.viewers.add(d.user_id);
  },
  row: (s, start, _end, env) => [
    s.videoId,
    start,
    env.kpart,
    s.plays,
    s.pauses,
    s.completes,
    s.watchSeconds,
    s.viewers.serialize(),
  ],
};

/** The `video_views` job. */
export function videoViewsJob(deps: ViewJobDeps): JobDefinition {
  return viewJob("video_views", ["VIDEO"], (_t, env) => [new BucketPart(videoViews, env)], deps);
}
