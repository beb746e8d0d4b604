import assert from "node:assert/strict";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../shared/time.ts";
import { DAY0, testSchedule } from "./_testing.ts";
import {
  compact,
  emptyState,
  ensureCursors,
  firstStartOrigin,
  nextTick,
  plan,
  type PlannedRun,
  type Published,
  recordResult,
  recordStart,
  retryDelay,
  type SchedulerState,
  slotKey,
} from "./scheduler.ts";

const o = testSchedule();
const nothing: Published = { hours: new Set(), days: new Map() };

function stateAt(hourly: number, daily: number = Math.floor(hourly / DAY_MS) * DAY_MS) {
  return ensureCursors(emptyState(), { hourly, daily }, o);
}

function fail(s: SchedulerState, run: PlannedRun, at: number, error = "boom") {
  return recordResult(recordStart(s, run, at, "me"), run, {
    outcome: "failed",
    startedAt: at,
    finishedAt: at,
    error,
  }, o);
}

Deno.test("an hour's run is due hourlyDelay after the hour ends, not before", () => {
  const s = stateAt(DAY0 + 5 * HOUR_MS, DAY0 + DAY_MS);
  const due = DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS;
  const before = plan(s, due - 1, nothing, o);
  assert.deepEqual(before.runnable, []);
  assert.equal(before.nextWakeAt, due);
  assert.deepEqual(before.nextDue.hourly, { key: "hourly:2026-11-20T05", at: due });
  const at = plan(s, due, nothing, o);
  assert.deepEqual(at.runnable.map((r) => [r.key, r.args]), [[
    "hourly:2026-11-20T05",
    ["--hour", "2026-11-20 05:00", "--jobs", "hourly_aggregate,views"],
  ]]);
  assert.equal(at.nextWakeAt, due);
  assert.equal(at.behind.hourly, 1);
});

Deno.test("the daily run of a day is due at dailyAt the next day", () => {
  const s = stateAt(DAY0 + DAY_MS + 2 * HOUR_MS, DAY0);
  const due = DAY0 + DAY_MS + 2 * HOUR_MS;
  assert.deepEqual(plan(s, due - 1, nothing, o).runnable.filter((r) => r.kind === "daily"), []);
  const runs = plan(s, due, nothing, o).runnable.filter((r) => r.kind === "daily");
  assert.deepEqual(runs.map((r) => [r.key, r.args]), [[
    "daily:2026-11-20",
    ["--date", "2026-11-20", "--jobs", "daily_summary,user_segmentation"],
  ]]);
});

Deno.test("daily extra arguments and a custom time of day are used", () => {
  const oo = testSchedule({
    dailyAtMs: 30 * MINUTE_MS,
    dailyExtraArgs: ["--lookback-days", "14"],
    commonArgs: ["--wait-seconds", "300"],
  });
  const s = ensureCursors(emptyState(), { daily: DAY0 }, { ...oo, hourlyJobs: [] });
  const runs = plan(s, DAY0 + DAY_MS + 30 * MINUTE_MS, nothing, { ...oo, hourlyJobs: [] }).runnable;
  assert.deepEqual(runs.map((r) => r.args), [[
    "--date",
    "2026-11-20",
    "--jobs",
    "daily_summary,user_segmentation",
    "--lookback-days",
    "14",
    "--wait-seconds",
    "300",
  ]]);
});

Deno.test("after downtime, missed runs are listed oldest first, whole untried days as one run", () => {
  const s = stateAt(DAY0 + 22 * HOUR_MS, DAY0);
  const now = DAY0 + 2 * DAY_MS + 2 * HOUR_MS + 10 * MINUTE_MS; // 2026-11-22T02:10
  const p = plan(s, now, nothing, o);
  assert.deepEqual(p.runnable.map((r) => r.key), [
    "hourly:2026-11-20T22",
    "hourly:2026-11-20T23",
    "hourly:2026-11-21", // 24 hours of 2026-11-21 as one --date run, due 2026-11-21T01:05
    "daily:2026-11-20", // due 2026-11-21T02:00
    "hourly:2026-11-22T00", // due 2026-11-22T01:05
    "daily:2026-11-21", // due 2026-11-22T02:00
    "hourly:2026-11-22T01", // due 2026-11-22T02:05
  ]);
  const day = p.runnable[2];
  assert.deepEqual(day.args, ["--date", "2026-11-21", "--jobs", "hourly_aggregate,views"]);
  assert.equal(day.slots.length, 24);
  assert.equal(p.behind.hourly, 2 + 24 + 2);
  assert.equal(p.behind.daily, 2);
  for (let i = 1; i < p.runnable.length; i++) {
    assert.ok(p.runnable[i - 1].dueAt <= p.runnable[i].dueAt);
  }
});

Deno.test("published hours and days are skipped and compaction moves the cursor past them", () => {
  const s = stateAt(DAY0, DAY0);
  const published: Published = {
    hours: new Set(["2026-11-20T00", "2026-11-20T01", "2026-11-20T03"]),
    days: new Map([["2026-11-20", new Set(["daily_summary", "user_segmentation"])]]),
  };
  const now = DAY0 + DAY_MS + 3 * HOUR_MS;
  const p = plan(s, now, published, o);
  assert.deepEqual(p.runnable.slice(0, 3).map((r) => r.key), [
    "hourly:2026-11-20T02",
    "hourly:2026-11-20T04",
    "hourly:2026-11-20T05",
  ]);
  assert.ok(!p.runnable.some((r) => r.key === "daily:2026-11-20"));
  const c = compact(s, now, published, o);
  assert.equal(c.cursors.hourly, DAY0 + 2 * HOUR_MS);
  assert.equal(c.cursors.daily, DAY0 + DAY_MS);
});

Deno.test("a failed run is retried with exponential backoff, then marked failed until the next tick", () => {
  let s = stateAt(DAY0 + 5 * HOUR_MS, DAY0 + DAY_MS);
  const t0 = DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS;
  const run = plan(s, t0, nothing, o).runnable[0];
  const key = slotKey("hourly", DAY0 + 5 * HOUR_MS);

  s = fail(s, run, t0, "exit code 1: disk full");
  assert.equal(s.slots[key].status, "retrying");
  assert.equal(s.slots[key].attempts, 1);
  assert.equal(s.slots[key].notBefore, t0 + 30_000);
  assert.equal(s.slots[key].lastError, "exit code 1: disk full");
  assert.deepEqual(plan(s, t0 + 29_999, nothing, o).runnable, []);
  assert.equal(plan(s, t0 + 29_999, nothing, o).nextWakeAt, t0 + 30_000);
  assert.equal(plan(s, t0 + 29_999, nothing, o).waiting.hourly, 1);

  const t1 = t0 + 30_000;
  assert.deepEqual(plan(s, t1, nothing, o).runnable.map((r) => r.key), [run.key]);
  s = fail(s, run, t1);
  assert.equal(s.slots[key].notBefore, t1 + 60_000);

  const t2 = t1 + 60_000;
  s = fail(s, run, t2);
  assert.equal(s.slots[key].status, "failed");
  assert.equal(s.slots[key].attempts, 0);
  assert.equal(s.slots[key].failures, 3);
  const tick = DAY0 + 7 * HOUR_MS + 5 * MINUTE_MS;
  assert.equal(s.slots[key].notBefore, tick);
  assert.equal(plan(s, tick - 1, nothing, o).failed.hourly, 1);
  assert.ok(!plan(s, tick - 1, nothing, o).runnable.some((r) => r.key === run.key));
  assert.ok(plan(s, tick, nothing, o).runnable.some((r) => r.key === run.key));
  assert.equal(s.last.hourly?.outcome, "failed");
});

Deno.test("retry delays double up to the bound", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => retryDelay(a, o)), [
    30_000,
    60_000,
    120_000,
    240_000,
    480_000,
    600_000,
  ]);
  assert.equal(nextTick(DAY0 + 3 * HOUR_MS + 5 * MINUTE_MS, o), DAY0 + 4 * HOUR_MS + 5 * MINUTE_MS);
  assert.equal(nextTick(DAY0 + 3 * HOUR_MS + 4 * MINUTE_MS, o), DAY0 + 3 * HOUR_MS + 5 * MINUTE_MS);
});

Deno.test("younger runs go ahead while an older one waits for its retry", () => {
  let s = stateAt(DAY0 + 5 * HOUR_MS, DAY0 + DAY_MS);
  const t0 = DAY0 + 7 * HOUR_MS + 5 * MINUTE_MS;
  const [h5] = plan(s, t0, nothing, o).runnable;
  s = fail(s, h5, t0);
  assert.deepEqual(plan(s, t0 + 1, nothing, o).runnable.map((r) => r.key), [
    "hourly:2026-11-20T06",
  ]);
});

Deno.test("a failed whole-day run is retried hour by hour", () => {
  let s = stateAt(DAY0, DAY0 + DAY_MS);
  const now = DAY0 + DAY_MS + HOUR_MS + 5 * MINUTE_MS;
  const [day] = plan(s, now, nothing, o).runnable;
  assert.equal(day.key, "hourly:2026-11-20");
  s = fail(s, day, now);
  const later = plan(s, now + 30_000, nothing, o).runnable.map((r) => r.key);
  assert.equal(later.length, 25); // 24 hours of 2026-11-20 + 2026-11-21T00
  assert.equal(later[0], "hourly:2026-11-20T00");
  assert.equal(later[23], "hourly:2026-11-20T23");
});

Deno.test("an interrupted run counts no attempt and is due again at once", () => {
  let s = stateAt(DAY0 + 5 * HOUR_MS, DAY0 + DAY_MS);
  const t0 = DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS;
  const [run] = plan(s, t0, nothing, o).runnable;
  s = recordResult(recordStart(s, run, t0, "me"), run, {
    outcome: "interrupted",
    startedAt: t0,
    finishedAt: t0 + 5,
  }, o);
  const key = slotKey("hourly", run.slots[0]);
  assert.equal(s.slots[key].status, "pending");
  assert.equal(s.slots[key].attempts, 0);
  assert.deepEqual(plan(s, t0 + 5, nothing, o).runnable.map((r) => r.key), [run.key]);
});

Deno.test("success marks the slots done; compaction forgets them", () => {
  let s = stateAt(DAY0 + 5 * HOUR_MS, DAY0 + DAY_MS);
  const t0 = DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS;
  const [run] = plan(s, t0, nothing, o).runnable;
  s = recordResult(recordStart(s, run, t0, "me"), run, {
    outcome: "succeeded",
    startedAt: t0,
    finishedAt: t0 + 4000,
  }, o);
  assert.deepEqual(plan(s, t0 + 4000, nothing, o).runnable, []);
  assert.equal(s.last.hourly?.durationMs, 4000);
  const c = compact(s, t0 + 4000, nothing, o);
  assert.deepEqual(c.slots, {});
  assert.equal(c.cursors.hourly, DAY0 + 6 * HOUR_MS);
});

Deno.test("a disabled schedule plans nothing", () => {
  const oo = testSchedule({ dailyJobs: [] });
  const s = ensureCursors(emptyState(), { hourly: DAY0, daily: DAY0 }, oo);
  assert.equal(s.cursors.daily, undefined);
  const p = plan(s, DAY0 + 3 * DAY_MS, nothing, oo);
  assert.ok(p.runnable.every((r) => r.kind === "hourly"));
  assert.ok(p.runnable.length > 0);
});

Deno.test("ensureCursors keeps existing cursors, so a restart resumes where it stopped", () => {
  const s = ensureCursors(stateAt(DAY0, DAY0), { hourly: DAY0 + 9 * DAY_MS, daily: DAY0 }, o);
  assert.equal(s.cursors.hourly, DAY0);
});

Deno.test("a first start begins at the earlier of batchThrough and the archive, within the window", () => {
  const now = DAY0 + 10 * DAY_MS + 30 * MINUTE_MS;
  const fresh = firstStartOrigin(now, {
    batchThrough: null,
    earliestArchived: null,
    catchupDays: 7,
  }, o);
  assert.deepEqual(fresh.cursors, {
    hourly: DAY0 + 9 * DAY_MS + 23 * HOUR_MS,
    daily: DAY0 + 9 * DAY_MS,
  });
  const archived = firstStartOrigin(now, {
    batchThrough: DAY0 + 9 * DAY_MS,
    earliestArchived: DAY0 + 8 * DAY_MS + 7 * HOUR_MS + 123,
    catchupDays: 7,
  }, o);
  assert.deepEqual(archived.cursors, {
    hourly: DAY0 + 8 * DAY_MS + 7 * HOUR_MS,
    daily: DAY0 + 8 * DAY_MS,
  });
  assert.equal(archived.clippedFrom, undefined);
  const old = firstStartOrigin(
    now,
    { batchThrough: null, earliestArchived: DAY0, catchupDays: 7 },
    o,
  );
  assert.equal(old.cursors.hourly, DAY0 + 3 * DAY_MS);
  assert.equal(old.clippedFrom, DAY0);
});
