import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { keyFraction, SlidingWindows } from "./sliding.ts";

const T0 = Date.UTC(2026, 10, 20, 5, 0, 0);
const MIN = 60_000;

Deno.test("an event lands in every 5-minute window sliding by 1 minute that holds it", () => {
  const w = new SlidingWindows<{ n: number }>({ init: () => ({ n: 0 }) });
  const cells = w.update("u", T0 + 10 * MIN + 30_000, 0, -Infinity, false);
  assertEquals(
    cells.map((c) => [(c.start - T0) / MIN, (c.end - T0) / MIN]),
    [[6, 11], [7, 12], [8, 13], [9, 14], [10, 15]],
  );
});

Deno.test("sliding windows sum the events of their five minutes", () => {
  const w = new SlidingWindows<{ n: number }>({ init: () => ({ n: 0 }) });
  for (let m = 0; m < 10; m++) {
    for (const c of w.update("u", T0 + m * MIN, m, -Infinity, false)) c.state.n++;
  }
  const byEnd = new Map(w.drainDirty().map((c) => [(c.end - T0) / MIN, c.state.n]));
  assertEquals(byEnd.get(1), 1);
  assertEquals(byEnd.get(5), 5);
  assertEquals(byEnd.get(10), 5);
  assertEquals(byEnd.get(14), 1);
});

Deno.test("a sliding window closes when the watermark reaches its end", () => {
  const w = new SlidingWindows<{ n: number }>({ init: () => ({ n: 0 }) });
  w.update("u", T0, 3, -Infinity, false);
  assertEquals(w.closeThrough(T0 + 3 * MIN), 3);
  assertEquals(w.replayPoint(), { offset: 3, maxEventTime: -Infinity });
  assertEquals(w.closeThrough(T0 + 5 * MIN), 2);
  assertEquals(w.replayPoint(), undefined);
});

Deno.test("a window size that is not a multiple of the slide is refused", () => {
  assertThrows(() => new SlidingWindows({ sizeMs: 90_000, slideMs: 60_000, init: () => 0 }), {
    name: "RangeError",
    message: /multiple of 'slideMs'/,
  });
});

Deno.test("future sliding windows are deferred until current, with the offset they hold back", () => {
  const w = new SlidingWindows<{ n: number }>({ init: () => ({ n: 0 }) });
  for (const c of w.update("u", T0 + 30_000, 7, -Infinity, false)) c.state.n++;
  // Max event time in minute 0: only the window ending at minute 1 is current.
  const now = w.drainDirty(T0 + 30_000, 0);
  assertEquals(now.map((c) => (c.end - T0) / MIN), [1]);
  assertEquals(w.deferredFrom(), 7);
  for (const c of w.update("u", T0 + MIN + 5, 8, T0 + 30_000, false)) c.state.n++;
  const next = w.drainDirty(T0 + MIN + 5, 0);
  assertEquals(next.map((c) => [(c.end - T0) / MIN, c.state.n]), [[2, 2]]);
  assertEquals(w.deferredFrom(), 7);
  // A drain without a time writes everything.
  assertEquals(w.drainDirty().map((c) => (c.end - T0) / MIN).sort((a, b) => a - b), [3, 4, 5, 6]);
  assertEquals(w.deferredFrom(), undefined);
});

Deno.test("a key's next window becomes due a fixed fraction of the spread before it is current", () => {
  const w = new SlidingWindows<{ n: number }>({ init: () => ({ n: 0 }) });
  w.update("k", T0, 1, -Infinity, false);
  const early = MIN * keyFraction("k");
  // Window ending at minute 2 is current from T0 + 1 min; with a spread of 1 min, due earlier.
  const due = (t: number) => w.drainDirty(t, MIN).map((c) => (c.end - T0) / MIN);
  assertEquals(due(T0 + MIN - early - 1), [1]);
  assertEquals(due(T0 + MIN - early), [2]);
  assertEquals(keyFraction("k") === keyFraction("k") && keyFraction("k") < 1, true);
});
