import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { TumblingWindows } from "./tumbling.ts";

const T0 = Date.UTC(2026, 10, 20, 5, 0, 0);
const MIN = 60_000;

function counter() {
  return new TumblingWindows<{ n: number }>({ init: () => ({ n: 0 }) });
}

Deno.test("events of one key and minute share a cell", () => {
  const w = counter();
  w.update("u1", T0 + 1_000, 0, -Infinity, false).state.n++;
  w.update("u1", T0 + 59_999, 1, T0 + 1_000, false).state.n++;
  w.update("u1", T0 + MIN, 2, T0 + 59_999, false).state.n++;
  w.update("u2", T0 + 5, 3, T0 + MIN, false).state.n++;
  const rows = w.drainDirty().map((c) => [c.key, c.start, c.end, c.state.n, c.version]);
  assertEquals(rows, [
    ["u1", T0, T0 + MIN, 2, 2],
    ["u1", T0 + MIN, T0 + 2 * MIN, 1, 3],
    ["u2", T0, T0 + MIN, 1, 4],
  ]);
  assertEquals(w.drainDirty(), []);
});

Deno.test("windows before 1970 are aligned to UTC minutes too", () => {
  const w = counter();
  const c = w.update("k", -1, 0, -Infinity, false);
  assertEquals([c.start, c.end], [-MIN, 0]);
});

Deno.test("tumbling window closes when the watermark reaches its end", () => {
  const w = counter();
  w.update("u1", T0, 0, -Infinity, false);
  w.update("u1", T0 + MIN, 1, T0, false);
  assertEquals(w.closeThrough(T0 + MIN - 1), 0);
  assertEquals(w.closeThrough(T0 + MIN), 1);
  assertEquals(w.open, { windows: 1, cells: 1 });
  // A later event of the closed minute would open a fresh cell (the gate marks it late first).
  assertEquals(w.update("u1", T0, 2, T0 + MIN, false).state.n, 0);
});

Deno.test("a dirty cell of a closed window is still drained once", () => {
  const w = counter();
  w.update("u1", T0, 0, -Infinity, false).state.n = 5;
  w.closeThrough(T0 + 10 * MIN);
  assertEquals(w.drainDirty().map((c) => c.state.n), [5]);
  assertEquals(w.open.windows, 0);
});

Deno.test("changes while replaying are not dirty but still stamp the version", () => {
  const w = counter();
  w.update("u1", T0, 7, -Infinity, true).state.n++;
  assertEquals(w.drainDirty(), []);
  const c = w.update("u1", T0, 9, T0, false);
  c.state.n++;
  assertEquals(w.drainDirty().map((x) => [x.state.n, x.version]), [[2, 10]]);
});

Deno.test("the replay point is the first offset of the oldest-built open window", () => {
  const w = counter();
  assertEquals(w.replayPoint(), undefined);
  w.update("a", T0 + 5 * MIN, 10, T0, false);
  w.update("b", T0 + 2 * MIN, 11, T0 + 5 * MIN, false); // out of order: older window, later offset
  w.update("a", T0 + 6 * MIN, 12, T0 + 5 * MIN, false);
  assertEquals(w.replayPoint(), { offset: 10, maxEventTime: T0 });
  w.closeThrough(T0 + 6 * MIN); // closes minutes 2 and 5
  assertEquals(w.replayPoint(), { offset: 12, maxEventTime: T0 + 5 * MIN });
});

Deno.test("a non-positive window size is refused", () => {
  assertThrows(() => new TumblingWindows({ sizeMs: 0, init: () => 0 }), RangeError);
});
