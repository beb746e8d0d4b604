import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { EventGate } from "./event_gate.ts";

const T0 = Date.UTC(2026, 10, 20, 5, 0, 0);
const MIN = 60_000;

Deno.test("the gate drops duplicates before they can move the watermark", () => {
  const g = new EventGate({ allowedLatenessMs: 10 * MIN });
  assertEquals(g.decide("a", T0, T0, 0).duplicate, false);
  const d = g.decide("a", T0 + 60 * MIN, T0 + 1000, 1);
  assertEquals([d.duplicate, d.late, g.maxEventTime], [true, false, T0]);
});

Deno.test("the gate marks events late against the watermark before the event", () => {
  const g = new EventGate({ allowedLatenessMs: 10 * MIN });
  g.decide("a", T0 + 30 * MIN, T0, 0);
  const late = g.decide("b", T0 + 19 * MIN, T0, 1);
  const onTime = g.decide("c", T0 + 20 * MIN, T0, 2);
  assertEquals([late.late, onTime.late], [true, false]);
  assertEquals(late.maxEventTimeBefore, T0 + 30 * MIN);
  assertEquals(g.counts.late, 1);
});

Deno.test("events without an event_id are never duplicates", () => {
  const g = new EventGate({ allowedLatenessMs: 0 });
  g.decide(undefined, T0, T0, 0);
  assertEquals(g.decide(undefined, T0, T0, 1).duplicate, false);
});

Deno.test("the gate's replay point is its oldest remembered first copy", () => {
  const g = new EventGate({ allowedLatenessMs: 0, initialMaxEventTime: T0 - MIN });
  g.decide("a", T0, T0, 40);
  assertEquals(g.replayPoint(), { offset: 40, maxEventTime: T0 - MIN });
});
