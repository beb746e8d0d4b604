import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DistinctSketch } from "../../../shared/sketch/hll.ts";
import { VIDEO_VIEWS } from "../../store/tables.ts";
import { ev, runJob, T0 } from "../_testing.ts";
import { videoViewsJob } from "./video_views.ts";

Deno.test("plays, pauses and completes count; only heartbeats add watched seconds", async () => {
  const v = (user: string, action: string, extra: Record<string, unknown> = {}) => ({
    ...ev(T0, { video_id: "v1", course_id: "c1", action, ...extra }),
    user_id: user,
  });
  const store = await runJob(videoViewsJob, "VIDEO", [
    v("u1", "play"),
    v("u1", "heartbeat", { watched_sec: 12.5 }),
    v("u2", "heartbeat", { watched_sec: 7.5 }),
    v("u2", "seek", { watched_sec: 100 }),
    v("u1", "pause"),
    v("u1", "complete"),
  ]);
  const [r] = store.objects(VIDEO_VIEWS);
  assertEquals([r.plays, r.pauses, r.completes, r.watch_seconds], [1, 1, 1, 20]);
  assertEquals(DistinctSketch.deserialize(r.unique_viewers as Uint8Array).estimate(), 2);
});
