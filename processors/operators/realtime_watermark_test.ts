import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { realtimeWatermark } from "./realtime_watermark.ts";

Deno.test("the realtime watermark is the minimum over partitions with recent data", () => {
  const now = 100_000;
  const wm = realtimeWatermark(
    [
      { watermark: 500, lastDataAt: now - 1_000 },
      { watermark: 300, lastDataAt: now - 40_000 }, // idle: does not hold it back
      { watermark: 700, lastDataAt: now - 10 },
    ],
    now,
    30_000,
  );
  assertEquals(wm, 500);
});

Deno.test("when every partition is idle the realtime watermark is the maximum", () => {
  const wm = realtimeWatermark(
    [
      { watermark: 500, lastDataAt: 0 },
      { watermark: 300, lastDataAt: 0 },
    ],
    100_000,
    30_000,
  );
  assertEquals(wm, 500);
});

Deno.test("partitions without events have no watermark", () => {
  assertEquals(realtimeWatermark([{ watermark: -Infinity, lastDataAt: 0 }], 1, 30_000), undefined);
  assertEquals(realtimeWatermark([], 1, 30_000), undefined);
});
