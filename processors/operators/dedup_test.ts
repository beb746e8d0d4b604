import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { DedupFilter } from "./dedup.ts";

const H = 3_600_000;

Deno.test("a second copy within the hour is a duplicate", () => {
  const d = new DedupFilter();
  assertEquals(d.check("a", 1000, 0, -Infinity), false);
  assertEquals(d.check("b", 2000, 1, 5), false);
  assertEquals(d.check("a", 1000 + H, 2, 5), true);
  assertEquals(d.size, 2);
});

Deno.test("a copy more than an hour after the first copy counts again", () => {
  const d = new DedupFilter();
  d.check("a", 1000, 0, -Infinity);
  assertEquals(d.check("a", 1001 + H, 1, 7), false);
  // …and is the new first copy for later copies.
  assertEquals(d.check("a", 1001 + 2 * H, 2, 7), true);
});

Deno.test("the horizon is measured from the first copy, not the latest duplicate", () => {
  const d = new DedupFilter({ horizonMs: 100 });
  d.check("a", 0, 0, -Infinity);
  assertEquals(d.check("a", 90, 1, 0), true);
  assertEquals(d.check("a", 150, 2, 0), false);
});

Deno.test("the replay point is the oldest first copy still inside the horizon", () => {
  const d = new DedupFilter({ horizonMs: 100 });
  assertEquals(d.replayPoint(), undefined);
  d.check("a", 0, 10, -Infinity);
  d.check("b", 50, 11, 3);
  d.check("c", 120, 12, 4);
  // "a" (ts 0) is more than 100 ms older than the max (120): forgotten.
  assertEquals(d.replayPoint(), { offset: 11, maxEventTime: 3 });
  assertEquals(d.size, 2);
  d.check("d", 1000, 13, 9);
  assertEquals(d.replayPoint(), { offset: 13, maxEventTime: 9 });
  assertEquals(d.size, 1);
});

Deno.test("a superseded first copy does not hold the replay point back", () => {
  const d = new DedupFilter({ horizonMs: 100 });
  d.check("a", 0, 0, -Infinity);
  d.check("b", 60, 1, 1);
  d.check("a", 101, 2, 2); // new first copy of "a"; evicts the old one
  assertEquals(d.replayPoint(), { offset: 1, maxEventTime: 1 });
});

Deno.test("a filter rebuilt from its replay point decides like the original", () => {
  const copies: [string, number][] = [];
  for (let i = 0; i < 20_000; i++) {
    const id = `e${(i * 7919) % 3000}`;
    copies.push([id, i * 1000]);
  }
  const live = new DedupFilter({ horizonMs: 600_000 });
  const decisions = copies.map(([id, ts], i) => live.check(id, ts, i, i));
  const cut = 12_345;
  const a = new DedupFilter({ horizonMs: 600_000 });
  copies.slice(0, cut).forEach(([id, ts], i) => a.check(id, ts, i, i));
  const from = a.replayPoint()!.offset;
  const b = new DedupFilter({ horizonMs: 600_000 });
  const replayed = copies.slice(from).map(([id, ts], j) => b.check(id, ts, from + j, from + j));
  assertEquals(replayed.slice(cut - from), decisions.slice(cut));
});

Deno.test("a negative horizon is refused", () => {
  assertThrows(() => new DedupFilter({ horizonMs: -1 }), RangeError);
});
