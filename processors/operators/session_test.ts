import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { SessionWindows } from "./session.ts";

const T0 = Date.UTC(2026, 10, 20, 5, 0, 0);
const MIN = 60_000;

interface Clicks {
  times: number[];
}

function sessions(gapMs = 30 * MIN) {
  return new SessionWindows<Clicks>({
    gapMs,
    init: () => ({ times: [] }),
    merge: (into, from) => {
      into.times.push(...from.times);
      into.times.sort((a, b) => a - b);
    },
  });
}

function click(w: SessionWindows<Clicks>, key: string, t: number, offset: number, replay = false) {
  const s = w.add(key, t, offset, -Infinity, replay);
  s.state.times.push(t);
  s.state.times.sort((a, b) => a - b);
  return s;
}

Deno.test("clicks at most 30 minutes apart share a session; a longer gap starts a new one", () => {
  const w = sessions();
  click(w, "u", T0, 0);
  click(w, "u", T0 + 30 * MIN, 1); // exactly the gap: same session
  click(w, "u", T0 + 60 * MIN + 1, 2); // more than the gap: new session
  const out = w.drainDirty().map((c) => [c.session.start, c.session.end, c.session.version]);
  assertEquals(out, [[T0, T0 + 30 * MIN, 2], [T0 + 60 * MIN + 1, T0 + 60 * MIN + 1, 3]]);
  assertEquals(w.openSessions, 2);
});

Deno.test("an out-of-order click that bridges two sessions merges them", () => {
  const w = sessions();
  click(w, "u", T0, 0);
  click(w, "u", T0 + 50 * MIN, 1);
  w.drainDirty();
  const s = click(w, "u", T0 + 25 * MIN, 2);
  assertEquals([s.start, s.end, s.state.times.length, s.version], [T0, T0 + 50 * MIN, 3, 3]);
  const changes = w.drainDirty();
  assertEquals(changes.length, 1);
  assertEquals(changes[0].staleStarts, [T0 + 50 * MIN]);
  assertEquals(w.openSessions, 1);
});

Deno.test("an earlier click moves the start and leaves the old row start to delete", () => {
  const w = sessions();
  click(w, "u", T0 + 10 * MIN, 0);
  w.drainDirty();
  click(w, "u", T0 + 5 * MIN, 1);
  click(w, "u", T0 + 2 * MIN, 2);
  const [c] = w.drainDirty();
  assertEquals(c.session.start, T0 + 2 * MIN);
  assertEquals(c.staleStarts.sort(), [T0 + 5 * MIN, T0 + 10 * MIN].sort());
  assertEquals(w.drainDirty(), []);
});

Deno.test("keys have independent sessions", () => {
  const w = sessions();
  click(w, "a", T0, 0);
  click(w, "b", T0 + MIN, 1);
  assertEquals(w.openSessions, 2);
});

Deno.test("a session closes when the watermark passes its end plus the gap and a minute", () => {
  const w = sessions();
  click(w, "u", T0, 0);
  w.drainDirty();
  assertEquals(w.closeThrough(T0 + 31 * MIN - 1, 5, false), 0);
  assertEquals(w.closeThrough(T0 + 31 * MIN, 6, false), 1);
  const [c] = w.drainDirty();
  assertEquals([c.session.closed, c.session.version], [true, 7]);
  assertEquals(w.openSessions, 0);
  assertEquals(w.replayPoint(), undefined);
});

Deno.test("an extended session is not closed by its stale end", () => {
  const w = sessions();
  click(w, "u", T0, 0);
  click(w, "u", T0 + 20 * MIN, 1);
  assertEquals(w.closeThrough(T0 + 40 * MIN, 2, false), 0);
  assertEquals(w.closeThrough(T0 + 51 * MIN, 3, false), 1);
});

Deno.test("the replay point is the first offset of the oldest open session, merges included", () => {
  const w = sessions();
  w.add("u", T0 + 50 * MIN, 4, 100, false);
  w.add("v", T0, 5, 200, false);
  w.add("u", T0, 6, 300, false);
  assertEquals(w.replayPoint(), { offset: 4, maxEventTime: 100 });
  w.add("u", T0 + 25 * MIN, 7, 300, false); // merges u's two sessions
  assertEquals(w.replayPoint(), { offset: 4, maxEventTime: 100 });
});

Deno.test("the replay point moves on to the next oldest session when the oldest closes", () => {
  const w = sessions();
  w.add("a", T0, 1, 10, false);
  w.add("b", T0 + 20 * MIN, 2, 20, false);
  w.add("c", T0 + 10 * MIN, 3, 30, false);
  assertEquals(w.replayPoint(), { offset: 1, maxEventTime: 10 });
  assertEquals(w.closeThrough(T0 + 31 * MIN, 4, false), 1); // a closes
  assertEquals(w.replayPoint(), { offset: 2, maxEventTime: 20 });
  w.add("d", T0 + 30 * MIN, 5, 40, false);
  assertEquals(w.replayPoint(), { offset: 2, maxEventTime: 20 });
});

Deno.test("changes while replaying are not drained", () => {
  const w = sessions();
  click(w, "u", T0, 0, true);
  w.closeThrough(T0 + 2 * 60 * MIN, 1, true);
  assertEquals(w.drainDirty(), []);
});

Deno.test("a negative gap is refused", () => {
  assertThrows(() => sessions(-1), RangeError);
});
