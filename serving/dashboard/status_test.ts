import assert from "node:assert/strict";
import { messagesIn, summariseLate } from "./status.ts";

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 21, 10);

Deno.test("summariseLate sums partitions per view, per topic and per hour", () => {
  const s = summariseLate([
    { view: "video_views", hour: T0, topic: "video_topic", late: 2 },
    { view: "video_views", hour: T0, topic: "video_topic", late: 3 },
    { view: "user_activity", hour: T0 + H, topic: "auth_topic", late: 1 },
    { view: "user_activity", hour: T0, topic: "video_topic", late: 5 },
  ]);
  assert.equal(s.total, 11);
  assert.deepEqual(s.views, [
    { view: "user_activity", late: 6, byTopic: { auth_topic: 1, video_topic: 5 } },
    { view: "video_views", late: 5, byTopic: { video_topic: 5 } },
  ]);
  assert.deepEqual(s.byHour, [
    { hour: "2026-11-21T10:00:00.000Z", late: 10 },
    { hour: "2026-11-21T11:00:00.000Z", late: 1 },
  ]);
});

Deno.test("summariseLate of no rows is zero with empty lists", () => {
  assert.deepEqual(summariseLate([]), { total: 0, views: [], byHour: [] });
});

Deno.test("messagesIn counts high minus low watermark over partitions", () => {
  assert.equal(
    messagesIn([{ high: "10", low: "0" }, { high: "7", low: "7" }, { high: "30", low: "12" }]),
    28,
  );
  assert.equal(messagesIn([]), 0);
});
