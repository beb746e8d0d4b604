import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { ALL_HOURS, dateRange, datesAround, planHours } from "./plan.ts";

const D = "2026-11-20";
const T = (h: number, m = 0) => Date.UTC(2026, 10, 20, h, m);

Deno.test("a past day publishes all 24 hours", () => {
  assertEquals(planHours(D, { requested: ALL_HOURS, published: [], now: T(48), settleMs: 0 }), {
    hours: [...ALL_HOURS],
    notYet: [],
  });
});

Deno.test("hours that have not ended (plus settle time) are not published", () => {
  const p = planHours(D, { requested: ALL_HOURS, published: [], now: T(5, 1), settleMs: 120_000 });
  assertEquals(p.hours, [0, 1, 2, 3]);
  assertEquals(p.notYet, ALL_HOURS.slice(4));
});

Deno.test("an hour run republishes the hours already published with it", () => {
  const p = planHours(D, { requested: [7], published: [0, 1, 2], now: T(48), settleMs: 0 });
  assertEquals(p.hours, [0, 1, 2, 7]);
});

Deno.test("date helpers", () => {
  assertEquals(datesAround(D, -1, 1), ["2026-11-19", D, "2026-11-21"]);
  assertEquals(dateRange("2026-02-27", "2026-03-01"), ["2026-02-27", "2026-02-28", "2026-03-01"]);
  assertThrows(() => dateRange(D, "2026-11-19"), /before --from/);
});
