import assert from "node:assert/strict";
import { DistinctSketch, QuantileSketch } from "../../shared/sketch/mod.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../shared/time.ts";
import { createMergeEngine } from "./engine.ts";
import { ArgumentError } from "./errors.ts";
import { MemoryBatchStore, MemoryRealtimeStore } from "./memory.ts";
import type { CourseFigures } from "./types.ts";

async function rejectsWith(
  fn: () => Promise<unknown>,
  cls: typeof ArgumentError,
): Promise<ArgumentError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    return e;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

const DAY0 = Date.UTC(2026, 10, 20); // 2026-11-20T00:00Z
const H = (h: number, m = 0) => DAY0 + h * HOUR_MS + m * MINUTE_MS;

function course(e: number, users: string[] = []): CourseFigures {
  return {
    enrollments: e,
    unenrollments: 0,
    completions: 0,
    activeUsers: DistinctSketch.of(users),
  };
}

function setup(now: number, opts: { retentionH?: number } = {}) {
  const batch = new MemoryBatchStore();
  const realtime = new MemoryRealtimeStore();
  const engine = createMergeEngine({
    batch,
    realtime,
    now: () => now,
    retentionMs: (opts.retentionH ?? 72) * HOUR_MS,
  });
  return { batch, realtime, engine };
}

Deno.test("a DAY straddling batchThrough is MIXED and sums batch hours before it with realtime minutes after it", async () => {
  const { batch, realtime, engine } = setup(H(20));
  batch.publish(H(0), H(10));
  for (let h = 0; h < 10; h++) batch.add("courseEngagement", "c1", H(h), course(1, ["u1"]));
  // Published after a hole: not part of batchThrough, so never read.
  batch.publish(H(11), H(12)).add("courseEngagement", "c1", H(11), course(1000));
  // Realtime rows before B must not be counted again.
  realtime.put("courseEngagement", "c1", H(9, 30), 0, course(500, ["u9"]));
  realtime.put("courseEngagement", "c1", H(10, 5), 0, course(2, ["u1", "u2"]));
  realtime.put("courseEngagement", "c1", H(10, 5), 3, course(3, ["u3"]));
  realtime.put("courseEngagement", "c1", H(19, 59), 1, course(4, ["u2"]));

  const a = await engine.series("courseEngagement", { courseId: "c1" }, {
    from: DAY0,
    to: DAY0 + DAY_MS,
    granularity: "DAY",
  });
  assert.deepStrictEqual(a.points.length, 1);
  assert.deepStrictEqual(a.points[0].source, "MIXED");
  assert.deepStrictEqual(a.points[0].figures.enrollments, 10 + 2 + 3 + 4);
  assert.deepStrictEqual(a.points[0].figures.activeUsers.estimate(), 3);
  assert.deepStrictEqual(a.total.source, "MIXED");
  assert.deepStrictEqual(a.total.figures.enrollments, 19);
  assert.deepStrictEqual(a.provenance.batchThrough, H(10));
  // From now (20:00) to midnight is the future: a gap, so the answer is not complete.
  assert.deepStrictEqual(a.provenance.gaps, [{ start: H(20), end: DAY0 + DAY_MS }]);
  assert.deepStrictEqual(a.provenance.complete, false);
});

Deno.test("HOUR points before batchThrough are BATCH and from it on REALTIME", async () => {
  const { batch, realtime, engine } = setup(H(12));
  batch.publish(H(0), H(10));
  batch.add("courseEngagement", "c1", H(9), course(7));
  realtime.put("courseEngagement", "c1", H(9, 1), 0, course(100));
  realtime.put("courseEngagement", "c1", H(10, 0), 2, course(5));
  const a = await engine.series("courseEngagement", { courseId: "c1" }, {
    from: H(8),
    to: H(12),
    granularity: "HOUR",
  });
  assert.deepStrictEqual(a.points.map((p) => [p.start - DAY0, p.source, p.figures.enrollments]), [
    [8 * HOUR_MS, "BATCH", 0],
    [9 * HOUR_MS, "BATCH", 7],
    [10 * HOUR_MS, "REALTIME", 5],
    [11 * HOUR_MS, "REALTIME", 0],
  ]);
  assert.deepStrictEqual(a.total.figures.enrollments, 12);
  assert.deepStrictEqual(a.provenance.complete, true);
  assert.deepStrictEqual(a.provenance.gaps, []);
});

Deno.test("with no batch published, realtime answers its retention and older time is a gap", async () => {
  const now = H(12);
  const { realtime, engine } = setup(now, { retentionH: 6 });
  realtime.put("courseEngagement", "c1", H(5, 59), 0, course(50)); // expired side of retention
  realtime.put("courseEngagement", "c1", H(6, 0), 0, course(1));
  realtime.put("courseEngagement", "c1", H(11, 59), 0, course(2));
  const a = await engine.series("courseEngagement", { courseId: "c1" }, {
    from: H(0),
    to: H(12),
    granularity: "HOUR",
  });
  assert.deepStrictEqual(a.provenance.batchThrough, null);
  assert.deepStrictEqual(a.provenance.gaps, [{ start: H(0), end: H(6) }]);
  assert.deepStrictEqual(a.provenance.complete, false);
  assert.deepStrictEqual(a.total.figures.enrollments, 3);
  assert.ok(a.points.every((p) => p.source === "REALTIME"));
});

Deno.test("batch behind realtime retention leaves a gap between batchThrough and the retention start", async () => {
  const now = H(30); // day 1, 06:00
  const { batch, realtime, engine } = setup(now, { retentionH: 20 }); // realtime from H(10)
  batch.publish(H(0), H(4)).add("courseEngagement", "c1", H(3), course(3));
  realtime.put("courseEngagement", "c1", H(12), 0, course(4));
  const a = await engine.series("courseEngagement", { courseId: "c1" }, {
    from: H(0),
    to: H(24),
    granularity: "DAY",
  });
  assert.deepStrictEqual(a.provenance.gaps, [{ start: H(4), end: H(10) }]);
  assert.deepStrictEqual(a.provenance.complete, false);
  assert.deepStrictEqual(a.points[0].source, "MIXED");
  assert.deepStrictEqual(a.points[0].figures.enrollments, 7);
});

Deno.test("the retention start inside an hour splits that hour into a gap and a realtime part", async () => {
  const now = H(12, 30);
  const { realtime, engine } = setup(now, { retentionH: 6 }); // realtime from 06:30
  realtime.put("courseEngagement", "c1", H(6, 40), 0, course(1));
  const a = await engine.series("courseEngagement", { courseId: "c1" }, {
    from: H(6),
    to: H(7),
    granularity: "HOUR",
  });
  assert.deepStrictEqual(a.provenance.gaps, [{ start: H(6), end: H(6, 30) }]);
  assert.deepStrictEqual(a.total.figures.enrollments, 1);
});

Deno.test("a range wholly in the future is one gap with zero figures", async () => {
  const { engine } = setup(H(12));
  const a = await engine.series("appEvents", {}, {
    from: H(30),
    to: H(33),
    granularity: "HOUR",
  });
  assert.deepStrictEqual(a.points.length, 3);
  assert.ok(a.points.every((p) => p.figures.count === 0 && p.source === "REALTIME"));
  assert.deepStrictEqual(a.provenance.gaps, [{ start: H(30), end: H(33) }]);
  assert.deepStrictEqual(a.provenance.complete, false);
  assert.deepStrictEqual(a.provenance.freshnessMs, null);
});

Deno.test("empty data inside coverage gives zero points and a complete answer", async () => {
  const { batch, engine } = setup(H(12));
  batch.publish(H(0), H(6));
  const a = await engine.series("videoViews", { videoId: "v" }, {
    from: H(2),
    to: H(11),
    granularity: "HOUR",
  });
  assert.deepStrictEqual(a.points.length, 9);
  assert.ok(
    a.points.every((p) => p.figures.plays === 0 && p.figures.uniqueViewers.estimate() === 0),
  );
  assert.deepStrictEqual(a.provenance.complete, true);
  assert.deepStrictEqual(a.provenance.freshnessMs, HOUR_MS);
});

Deno.test("MINUTE reaching outside realtime retention is refused naming from", async () => {
  const { engine } = setup(H(80));
  const err = await rejectsWith(
    () => engine.series("appEvents", {}, { from: H(7), to: H(9), granularity: "MINUTE" }),
    ArgumentError,
  );
  assert.deepStrictEqual(err.argument, "from");
  assert.ok(err.message.includes("72 hours"));
  const ok = await engine.series("appEvents", {}, {
    from: H(9),
    to: H(9, 5),
    granularity: "MINUTE",
  });
  assert.deepStrictEqual(ok.points.length, 5);
});

Deno.test("MINUTE is answered from realtime even before batchThrough", async () => {
  const { batch, realtime, engine } = setup(H(12));
  batch.publish(H(0), H(10)).addAppEvents(
    H(9),
    { eventType: "click", appType: "web", userId: "u" },
    99,
  );
  realtime.putAppEvents(H(9, 1), { eventType: "click", appType: "web", userId: "u" }, 0, 2);
  realtime.putAppEvents(H(9, 1), { eventType: "click", appType: "web", userId: "u" }, 1, 3);
  const a = await engine.series("appEvents", {}, {
    from: H(9),
    to: H(9, 3),
    granularity: "MINUTE",
  });
  assert.deepStrictEqual(a.points.map((p) => [p.source, p.figures.count]), [
    ["REALTIME", 0],
    ["REALTIME", 5],
    ["REALTIME", 0],
  ]);
});

Deno.test("to before from and ranges over 400 days are refused naming to", async () => {
  const { engine } = setup(H(12));
  const e1 = await rejectsWith(
    () => engine.series("appEvents", {}, { from: H(5), to: H(4), granularity: "HOUR" }),
    ArgumentError,
  );
  assert.deepStrictEqual(e1.argument, "to");
  const e2 = await rejectsWith(
    () =>
      engine.series("appEvents", {}, {
        from: H(0) - 401 * DAY_MS,
        to: H(0),
        granularity: "DAY",
      }),
    ArgumentError,
  );
  assert.deepStrictEqual(e2.argument, "to");
  assert.ok(e2.message.includes("401 days"));
  const e3 = await rejectsWith(
    () => engine.sessions("u", { from: H(5), to: H(4) }),
    ArgumentError,
  );
  assert.deepStrictEqual(e3.argument, "to");
});

Deno.test("ranges widen to whole hours (minutes for MINUTE) and DAY buckets are clipped to them", async () => {
  const { batch, engine } = setup(H(36));
  batch.publish(H(0), H(30));
  batch.add("courseEngagement", "c", H(1), course(1)).add("courseEngagement", "c", H(3), course(2));
  batch.add("courseEngagement", "c", H(25), course(4)).add(
    "courseEngagement",
    "c",
    H(29),
    course(8),
  );
  const hourly = await engine.series("courseEngagement", { courseId: "c" }, {
    from: H(1, 30),
    to: H(3, 10),
    granularity: "HOUR",
  });
  assert.deepStrictEqual(hourly.points.map((p) => [p.start, p.end]), [
    [H(1), H(2)],
    [H(2), H(3)],
    [H(3), H(4)],
  ]);
  assert.deepStrictEqual([hourly.total.start, hourly.total.end], [H(1), H(4)]);
  const daily = await engine.series("courseEngagement", { courseId: "c" }, {
    from: H(2),
    to: H(26),
    granularity: "DAY",
  });
  assert.deepStrictEqual(daily.points.map((p) => [p.start, p.end, p.figures.enrollments]), [
    [H(2), H(24), 2],
    [H(24), H(26), 4],
  ]);
  const minutes = await engine.series("appEvents", {}, {
    from: H(30, 1) + 500,
    to: H(30, 3) + 1,
    granularity: "MINUTE",
  });
  assert.deepStrictEqual(minutes.points.map((p) => p.start), [H(30, 1), H(30, 2), H(30, 3)]);
  const empty = await engine.series("appEvents", {}, {
    from: H(1, 30),
    to: H(1, 30),
    granularity: "HOUR",
  });
  assert.deepStrictEqual(empty.points, []);
  assert.deepStrictEqual(empty.provenance.complete, true);
});

Deno.test("eventCounts filters apply in both layers", async () => {
  const { batch, realtime, engine } = setup(H(12));
  batch.publish(H(0), H(10));
  batch.addAppEvents(H(9), { eventType: "click", appType: "web", userId: "a" }, 1);
  batch.addAppEvents(H(9), { eventType: "click", appType: "mobile", userId: "b" }, 10);
  batch.addAppEvents(H(9), { eventType: "search", appType: "web", userId: "a" }, 100);
  realtime.putAppEvents(H(10), { eventType: "click", appType: "web", userId: "b" }, 0, 1000);
  realtime.putAppEvents(H(10), { eventType: "click", appType: "web", userId: "a" }, 0, 10000);
  const range = { from: H(9), to: H(11), granularity: "DAY" as const };
  const count = async (k: object) =>
    (await engine.series("appEvents", k, range)).total.figures.count;
  assert.deepStrictEqual(await count({}), 11111);
  assert.deepStrictEqual(await count({ eventType: "click" }), 11011);
  assert.deepStrictEqual(await count({ eventType: "click", appType: "web" }), 11001);
  assert.deepStrictEqual(await count({ userId: "a" }), 10101);
  assert.deepStrictEqual(await count({ userId: "a", eventType: "search" }), 100);
});

Deno.test("assessment percentiles and extremes merge across layers", async () => {
  const { batch, realtime, engine } = setup(H(12));
  batch.publish(H(0), H(10));
  const batchVals = [10, 20, 30, 40];
  const rtVals = [50, 60, 70, 80, 90];
  const fig = (vals: number[]) => ({
    graded: vals.length,
    sumPercent: vals.reduce((a, b) => a + b, 0),
    minPercent: Math.min(...vals),
    maxPercent: Math.max(...vals),
    percents: QuantileSketch.of(vals),
  });
  batch.add("assessmentScores", "a1", H(9), fig(batchVals));
  realtime.put("assessmentScores", "a1", H(10, 30), 0, fig(rtVals.slice(0, 2)));
  realtime.put("assessmentScores", "a1", H(10, 30), 1, fig(rtVals.slice(2)));
  const a = await engine.series("assessmentScores", { assessmentId: "a1" }, {
    from: H(0),
    to: H(12),
    granularity: "DAY",
  });
  const t = a.total.figures;
  assert.deepStrictEqual([t.graded, t.sumPercent, t.minPercent, t.maxPercent], [9, 450, 10, 90]);
  const p50 = t.percents.quantile(0.5)!;
  assert.ok(Math.abs(p50 - 50) / 50 < 0.01, `p50 ${p50}`);
});

Deno.test("a speed layer that is not live covers only up to its watermark", async () => {
  const { realtime, engine } = setup(H(12));
  realtime.state = { watermark: H(11), newestEventTime: H(11, 10), live: false, lag: [] };
  realtime.put("courseEngagement", "c1", H(10), 0, course(1));
  const a = await engine.series("courseEngagement", { courseId: "c1" }, {
    from: H(10),
    to: H(12),
    granularity: "HOUR",
  });
  assert.deepStrictEqual(a.provenance.gaps, [{ start: H(11), end: H(12) }]);
  assert.deepStrictEqual(a.provenance.realtimeWatermark, H(11));
  assert.deepStrictEqual(a.provenance.freshnessMs, HOUR_MS);
});

Deno.test("freshness is now minus the newest event time the answer reflects", async () => {
  const { batch, realtime, engine } = setup(H(12));
  batch.publish(H(0), H(10));
  realtime.state = { watermark: H(11, 40), newestEventTime: H(11, 50), live: true, lag: [] };
  const live = await engine.series("appEvents", {}, { from: H(9), to: H(12), granularity: "HOUR" });
  assert.deepStrictEqual(live.provenance.freshnessMs, 10 * MINUTE_MS);
  const old = await engine.series("appEvents", {}, { from: H(2), to: H(5), granularity: "HOUR" });
  assert.deepStrictEqual(old.provenance.freshnessMs, 7 * HOUR_MS);
});

Deno.test("realtime fills hours before the first batch hour inside its retention", async () => {
  const { batch, realtime, engine } = setup(H(12));
  batch.publish(H(4), H(8)).add("courseEngagement", "c1", H(5), course(10));
  realtime.put("courseEngagement", "c1", H(2), 0, course(1));
  realtime.put("courseEngagement", "c1", H(6), 0, course(100)); // shadowed by batch
  realtime.put("courseEngagement", "c1", H(9), 0, course(1000));
  const a = await engine.series("courseEngagement", { courseId: "c1" }, {
    from: H(0),
    to: H(12),
    granularity: "DAY",
  });
  assert.deepStrictEqual(a.total.figures.enrollments, 1011);
  assert.deepStrictEqual(a.points[0].source, "MIXED");
  assert.deepStrictEqual([a.points[0].start, a.points[0].end], [H(0), H(12)]);
  assert.deepStrictEqual(a.provenance.complete, true);
});

Deno.test("a session is owned by the layer covering its start: none counted twice or dropped", async () => {
  const { batch, realtime, engine } = setup(H(12));
  batch.publish(H(0), H(10));
  const s = (id: string, start: number, end: number) => ({
    sessionId: id,
    userId: "u",
    start,
    end,
    durationSec: (end - start) / 1000,
    clicks: 2,
    uniquePages: 1,
    path: ["/a"],
  });
  // Crosses batchThrough: batch owns it (start < B) even though realtime also has it.
  batch.addSession(s("x", H(9, 50), H(10, 20)));
  realtime.putSession(s("x", H(9, 50), H(10, 20)));
  // Starts after B: realtime owns it; a batch copy (republished later) is ignored.
  realtime.putSession(s("y", H(10, 30), H(10, 40)));
  batch.addSession(s("y", H(10, 30), H(10, 40)));
  realtime.putSession(s("z", H(11), H(11)));
  const a = await engine.sessions("u", { from: H(0), to: H(12) });
  assert.deepStrictEqual(a.sessions.map((x) => x.sessionId), ["x", "y", "z"]);
  assert.deepStrictEqual(a.provenance.complete, true);
  const later = await engine.sessions("u", { from: H(10), to: H(12) });
  assert.deepStrictEqual(later.sessions.map((x) => x.sessionId), ["y", "z"]);
});

Deno.test("one answer context keeps one batch version even if the store republishes", async () => {
  const { batch, realtime, engine } = setup(H(12));
  batch.publish(H(0), H(10)).add("courseEngagement", "c1", H(9), course(1));
  realtime.put("courseEngagement", "c1", H(10), 0, course(10));
  const ctx = await engine.context();
  batch.publish(H(10), H(11)).add("courseEngagement", "c1", H(10), course(10));
  const a = await engine.series("courseEngagement", { courseId: "c1" }, {
    from: H(0),
    to: H(12),
    granularity: "DAY",
  }, ctx);
  assert.deepStrictEqual(a.total.figures.enrollments, 11);
  assert.deepStrictEqual(a.provenance.batchThrough, H(10));
  const b = await engine.series("courseEngagement", { courseId: "c1" }, {
    from: H(0),
    to: H(12),
    granularity: "DAY",
  });
  assert.deepStrictEqual(b.provenance.batchThrough, H(11));
  assert.deepStrictEqual(b.total.figures.enrollments, 11);
});

Deno.test("a DAY's batch part is summed once per batch version, and a new version is read again", async () => {
  const { batch, engine } = setup(H(50));
  batch.publish(H(0), H(48));
  for (let h = 0; h < 48; h++) batch.add("courseEngagement", "c", H(h), course(1, [`u${h}`]));
  const ask = () =>
    engine.series("courseEngagement", { courseId: "c" }, {
      from: H(0),
      to: H(48),
      granularity: "DAY",
    });
  const a = await ask();
  const reads = batch.reads;
  const b = await ask();
  assert.equal(batch.reads, reads, "served from the summed parts");
  assert.deepStrictEqual(b.points.map((p) => p.figures.enrollments), [24, 24]);
  assert.deepStrictEqual(b.total.figures.activeUsers.estimate(), 48);
  assert.deepStrictEqual(a.total.figures.enrollments, 48);
  // Republishing (even the same hours) is a new version: its data is read, not the old sums.
  batch.add("courseEngagement", "c", H(3), course(100)).publish(H(0), H(48));
  const c = await ask();
  assert.ok(batch.reads > reads);
  assert.deepStrictEqual(c.points.map((p) => p.figures.enrollments), [124, 24]);
});

Deno.test("an unreachable realtime store leaves batch answers with the rest listed as gaps", async () => {
  const batch = new MemoryBatchStore().publish(H(0), H(10));
  batch.add("courseEngagement", "c", H(9), course(5));
  const errors: unknown[] = [];
  const realtime = new MemoryRealtimeStore();
  realtime.status = () => Promise.reject(new Error("cassandra down"));
  const engine = createMergeEngine({
    batch,
    realtime,
    now: () => H(12),
    onRealtimeError: (e) => errors.push(e),
  });
  const a = await engine.series("courseEngagement", { courseId: "c" }, {
    from: H(8),
    to: H(12),
    granularity: "HOUR",
  });
  assert.deepStrictEqual(a.total.figures.enrollments, 5);
  assert.deepStrictEqual(a.provenance.gaps, [{ start: H(10), end: H(12) }]);
  assert.deepStrictEqual(a.provenance.complete, false);
  assert.deepStrictEqual(a.provenance.realtimeWatermark, null);
  assert.equal(errors.length, 1);
});

Deno.test("figures are summed once per reused realtime read and shared parts are never changed", async () => {
  const { batch, realtime, engine } = setup(H(20));
  batch.publish(H(0), H(10));
  for (let h = 0; h < 10; h++) batch.add("courseEngagement", "c1", H(h), course(1, [`u${h}`]));
  realtime.put("courseEngagement", "c1", H(10, 5), 0, course(2, ["u1", "x"]));
  // A store that reuses its answer (as the Cassandra store does within REALTIME_CACHE_MS).
  const minutes = realtime.minutes.bind(realtime);
  let reused: ReturnType<typeof minutes> | undefined;
  realtime.minutes =
    ((...args: Parameters<typeof minutes>) =>
      reused ??= minutes(...args)) as typeof realtime.minutes;
  const ask = (granularity: "DAY" | "HOUR") =>
    engine.series("courseEngagement", { courseId: "c1" }, {
      from: DAY0,
      to: DAY0 + DAY_MS,
      granularity,
    });
  const a = await ask("DAY"), b = await ask("DAY");
  assert.equal(b.points[0].figures, a.points[0].figures, "the same sums, not summed again");
  assert.equal(a.points[0].figures.enrollments, 12);
  assert.equal(a.points[0].figures.activeUsers.estimate(), 11);
  // The MIXED day merged copies: the batch and realtime parts an HOUR series shares are intact.
  const hours = await ask("HOUR");
  assert.deepStrictEqual(
    hours.points.slice(9, 11).map((p) => [p.figures.enrollments, p.figures.activeUsers.estimate()]),
    [[1, 1], [2, 2]],
  );
  // A new read (the reuse has expired) is summed afresh.
  realtime.put("courseEngagement", "c1", H(10, 6), 0, course(5));
  reused = undefined;
  assert.equal((await ask("DAY")).points[0].figures.enrollments, 17);
});
