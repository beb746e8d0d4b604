import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { WatermarkTracker } from "./watermark.ts";
import { NO_TIME } from "./replay_point.ts";

const T0 = Date.UTC(2026, 10, 20, 5, 0, 0);
const MIN = 60_000;

Deno.test("watermark is the max event time minus the allowed lateness", () => {
  const w = new WatermarkTracker({ allowedLatenessMs: 10 * MIN });
  assertEquals(w.watermark, NO_TIME);
  w.observe(T0 + 30 * MIN);
  w.observe(T0 + 20 * MIN);
  assertEquals(w.maxEventTime, T0 + 30 * MIN);
  assertEquals(w.watermark, T0 + 20 * MIN);
});

Deno.test("nothing is late before the first event", () => {
  const w = new WatermarkTracker({ allowedLatenessMs: 0 });
  assertEquals(w.observe(0), false);
  assertEquals(w.observe(-5 * MIN), true);
});

Deno.test("an event is late when its minute ends at or before the watermark", () => {
  const w = new WatermarkTracker({ allowedLatenessMs: 10 * MIN });
  w.observe(T0 + 20 * MIN); // wm = T0 + 10 min
  assertEquals(w.isLate(T0 + 9 * MIN), true); // minute [9,10) ends at wm
  assertEquals(w.isLate(T0 + 9 * MIN + 59_999), true);
  assertEquals(w.isLate(T0 + 10 * MIN), false); // minute [10,11) still open
  assertEquals(w.isLate(T0 + 10 * MIN - 1), true);
});

Deno.test("lateness is decided before the event advances the max", () => {
  const w = new WatermarkTracker({ allowedLatenessMs: 0 });
  w.observe(T0 + 5 * MIN);
  // An event far ahead is not late and moves the watermark.
  assertEquals(w.observe(T0 + 60 * MIN), false);
  assertEquals(w.watermark, T0 + 60 * MIN);
  assertEquals(w.observe(T0 + 58 * MIN), true);
});

Deno.test("a replay resumes from the checkpoint's max event time", () => {
  const w = new WatermarkTracker({ allowedLatenessMs: MIN, initialMaxEventTime: T0 + 10 * MIN });
  assertEquals(w.isLate(T0 + 8 * MIN), true);
  assertEquals(w.isLate(T0 + 9 * MIN), false);
});

Deno.test("a negative allowed lateness is refused", () => {
  assertThrows(() => new WatermarkTracker({ allowedLatenessMs: -1 }), RangeError);
});
