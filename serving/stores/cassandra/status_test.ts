import assert from "node:assert/strict";
import { realtimeStatusOf, type StatusRow } from "./status.ts";

const NOW = 1_800_000_000_000;
const row = (
  p: number,
  wm: number,
  lastDataAgo: number,
  over: Partial<StatusRow> = {},
): StatusRow => ({
  topic: "t",
  partition: p,
  watermark: wm,
  maxEventTime: wm + 600_000,
  lag: p,
  lastDataAt: NOW - lastDataAgo,
  updatedAt: NOW - 500,
  ...over,
});
const settings = { now: NOW, idlePartitionMs: 30_000, staleAfterMs: 15_000 };

Deno.test("the watermark is the minimum over partitions with recent data", () => {
  const s = realtimeStatusOf([row(0, 100, 1000), row(1, 50, 2000), row(2, 10, 60_000)], settings);
  assert.equal(s.watermark, 50, "partition 2 is idle and does not hold it back");
  assert.equal(s.newestEventTime, 100 + 600_000);
  assert.equal(s.live, true);
  assert.deepEqual(s.lag.map((l) => l.lag), [0, 1, 2]);
});

Deno.test("when every partition is idle the watermark is the maximum", () => {
  const s = realtimeStatusOf([row(0, 100, 90_000), row(1, 300, 90_000)], settings);
  assert.equal(s.watermark, 300);
});

Deno.test("no fresh status row means the speed layer is not live; no rows, no watermark", () => {
  const stale = realtimeStatusOf([row(0, 100, 1000, { updatedAt: NOW - 20_000 })], settings);
  assert.equal(stale.live, false);
  const none = realtimeStatusOf([], settings);
  assert.deepEqual(none, { watermark: null, newestEventTime: null, live: false, lag: [] });
  const noWm = realtimeStatusOf([row(0, -1, 1000, { maxEventTime: -1 })], settings);
  assert.equal(noWm.watermark, null);
  assert.equal(noWm.newestEventTime, null);
});
