import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { LateCounter } from "./late_counter.ts";

const H0 = Date.UTC(2026, 10, 20, 5);
const HOUR = 3_600_000;

Deno.test("late events count per event-time hour as absolute figures", () => {
  const c = new LateCounter();
  c.add(H0 + 10, 3, false);
  c.add(H0 + HOUR - 1, 5, false);
  c.add(H0 - 1, 6, false);
  assertEquals(c.drainDirty(), [
    { hour: H0, late: 2, version: 6 },
    { hour: H0 - HOUR, late: 1, version: 7 },
  ]);
  c.add(H0 + 20, 9, false);
  assertEquals(c.drainDirty(), [{ hour: H0, late: 3, version: 10 }]);
});

Deno.test("a stored row's late events are not counted again on replay", () => {
  // Stored: 2 late events of H0, the newest at offset 8 (version 9).
  const c = new LateCounter([{ hour: H0, late: 2, version: 9 }]);
  c.add(H0 + 1, 4, true); // replayed, already in the row
  c.add(H0 + 2, 8, false); // written by a flush after the checkpoint: in the row too
  assertEquals(c.drainDirty(), []);
  c.add(H0 + 3, 12, false);
  assertEquals(c.drainDirty(), [{ hour: H0, late: 3, version: 13 }]);
});

Deno.test("replayed late events are never counted again", () => {
  const c = new LateCounter([{ hour: H0, late: 1, version: 2 }]);
  c.add(H0, 1, true);
  c.add(H0 + 5, 4, true); // below nextOffset: in a stored row already (or not late live)
  assertEquals(c.drainDirty(), []);
  c.add(H0, 6, false);
  assertEquals(c.drainDirty(), [{ hour: H0, late: 2, version: 7 }]);
});
