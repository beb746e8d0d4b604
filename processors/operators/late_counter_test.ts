import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { LateCounter } from "./late_counter.ts";

const H0 = Date.UTC(2026, 10, 20, 5);
const HOUR = 3_600_000;

Deno.test("late events count per arrival hour as absolute figures", () => {
  const c = new LateCounter();
  c.advance(H0 + 10);
  c.add(H0 + 10, 3, 100, false);
  c.advance(H0 + 20);
  c.add(H0 + 20, 5, 100, false);
  assertEquals(c.drainDirty(), [{ hour: H0, late: 2, version: 6 }]);
  c.advance(H0 + HOUR);
  c.add(H0 + HOUR, 9, 100, false);
  assertEquals(c.drainDirty(), [{ hour: H0 + HOUR, late: 1, version: 10 }]);
});

Deno.test("the open hour closes when Kafka time leaves it, releasing the replay point", () => {
  const c = new LateCounter();
  c.advance(H0);
  c.add(H0, 7, 42, false);
  assertEquals(c.replayPoint(), { offset: 7, maxEventTime: 42 });
  c.advance(H0 + HOUR - 1);
  assertEquals(c.replayPoint(), { offset: 7, maxEventTime: 42 });
  c.advance(H0 + HOUR);
  assertEquals(c.replayPoint(), undefined);
});

Deno.test("late events counted while replaying are rebuilt but not drained", () => {
  const c = new LateCounter();
  c.add(H0, 1, 0, true);
  assertEquals(c.drainDirty(), []);
  c.add(H0, 2, 0, false);
  assertEquals(c.drainDirty(), [{ hour: H0, late: 2, version: 3 }]);
});
