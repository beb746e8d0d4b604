import assert from "node:assert/strict";
import { MINUTE_MS as MIN } from "../../shared/time.ts";
import { slidingWindows } from "./sliding.ts";

const T0 = Date.parse("2026-12-04T10:00:00Z");
const ops = {
  zero: () => ({ n: 0 }),
  addInto: (into: { n: number }, p: { n: number }) => (into.n += p.n, into),
};

Deno.test("each window sums the minute points starting in [end − size, end)", () => {
  const points = [
    { start: T0 + 2 * MIN, figures: { n: 1 } },
    { start: T0, figures: { n: 3 } },
    { start: T0 + 6 * MIN, figures: { n: 10 } },
  ];
  const w = slidingWindows(points, T0 + MIN, T0 + 8 * MIN, 5 * MIN, ops);
  assert.deepEqual(
    w.map((x) => [(x.end - T0) / MIN, (x.start - T0) / MIN, x.figures.n]),
    [[1, -4, 3], [2, -3, 3], [3, -2, 4], [4, -1, 4], [5, 0, 4], [6, 1, 1], [7, 2, 11], [8, 3, 10]],
  );
});

Deno.test("windows are independent sums (a figure is not shared between windows)", () => {
  const w = slidingWindows(
    [{ start: T0, figures: { n: 2 } }],
    T0 + MIN,
    T0 + 2 * MIN,
    5 * MIN,
    ops,
  );
  w[0].figures.n = 99;
  assert.equal(w[1].figures.n, 2);
});

Deno.test("no points gives zero windows; bad bounds are refused by name", () => {
  assert.deepEqual(slidingWindows([], T0, T0, MIN, ops), [{
    start: T0 - MIN,
    end: T0,
    figures: { n: 0 },
  }]);
  assert.throws(() => slidingWindows([], T0 + 1, T0 + MIN, MIN, ops), /'firstEnd' must be a whole/);
  assert.throws(() => slidingWindows([], T0 + MIN, T0, MIN, ops), /lastEnd ≥ firstEnd/);
  assert.throws(() => slidingWindows([], T0, T0, 0, ops), /sizeMs > 0/);
});
