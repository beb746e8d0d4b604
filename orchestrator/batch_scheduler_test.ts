import assert from "node:assert/strict";
import { Registry } from "../shared/metrics.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../shared/time.ts";
import {
  DAY0,
  deferred,
  FakeManifest,
  FakeRunner,
  memoryLogger,
  testSchedule,
} from "./_testing.ts";
import { BatchScheduler, type BatchSchedulerOptions } from "./batch_scheduler.ts";
import { ManualClock } from "./clock.ts";
import { FileRunLocks } from "./lock.ts";
import { emptyState, ensureCursors, slotKey } from "./scheduler.ts";
import { FileStateStore, MemoryStateStore } from "./state.ts";

const schedule = testSchedule();

function scheduler(over: Partial<BatchSchedulerOptions> & Pick<BatchSchedulerOptions, "runner">) {
  const { log, records } = memoryLogger();
  const manifest = (over.runner as FakeRunner).manifest;
  const s = new BatchScheduler({
    schedule,
    store: new MemoryStateStore(),
    locks: {
      tryAcquire: (keys) => Promise.resolve({ keys, release: () => Promise.resolve() }),
      holder: () => Promise.resolve(null),
    },
    published: manifest.source,
    owner: "test",
    log,
    ...over,
  });
  return { s, records };
}

/** Ticks until a tick runs nothing; returns how many runs happened. */
async function drain(s: BatchScheduler): Promise<number> {
  let n = 0;
  while ((await s.tick()).ran) n++;
  return n;
}

Deno.test("a tick runs nothing before an hour is due and runs it once due", async () => {
  const clock = new ManualClock(DAY0 + 6 * HOUR_MS + 4 * MINUTE_MS);
  const runner = new FakeRunner(new FakeManifest());
  const store = new MemoryStateStore(
    ensureCursors(emptyState(), { hourly: DAY0 + 5 * HOUR_MS, daily: DAY0 + DAY_MS }, schedule),
  );
  const { s } = scheduler({ runner, clock, store });
  await s.init();
  const idle = await s.tick();
  assert.equal(idle.ran, null);
  assert.equal(idle.nextWakeAt, DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS);
  clock.set(idle.nextWakeAt);
  const r = await s.tick();
  assert.equal(r.ran?.run.key, "hourly:2026-11-20T05");
  assert.equal(r.ran?.result.outcome, "succeeded");
  assert.deepEqual(runner.keys(), ["hourly:2026-11-20T05"]);
  assert.equal((await s.tick()).ran, null);
  const st = await store.load();
  assert.equal(st.cursors.hourly, DAY0 + 6 * HOUR_MS);
  assert.equal(st.last.hourly?.outcome, "succeeded");
});

Deno.test("the loop sleeps until the next slot is due, then runs it (controlled clock)", async () => {
  const clock = new ManualClock(DAY0 + 6 * HOUR_MS + 10 * MINUTE_MS);
  const runner = new FakeRunner(new FakeManifest());
  const store = new MemoryStateStore(
    ensureCursors(emptyState(), { hourly: DAY0 + 6 * HOUR_MS, daily: DAY0 + DAY_MS }, schedule),
  );
  const { s } = scheduler({ runner, clock, store, pollMs: 24 * HOUR_MS });
  const stop = new AbortController();
  const loop = s.run(stop.signal);
  while (clock.sleepers === 0) await new Promise((r) => setTimeout(r, 0));
  assert.equal(clock.nextWake, DAY0 + 7 * HOUR_MS + 5 * MINUTE_MS);
  assert.deepEqual(runner.keys(), []);
  clock.set(DAY0 + 7 * HOUR_MS + 5 * MINUTE_MS);
  while (runner.calls.length === 0 || clock.sleepers === 0) {
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.deepEqual(runner.keys(), ["hourly:2026-11-20T06"]);
  assert.equal(clock.nextWake, DAY0 + 8 * HOUR_MS + 5 * MINUTE_MS);
  stop.abort();
  await loop;
});

Deno.test("after downtime a new scheduler on the same state file catches up oldest first", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const manifest = new FakeManifest();
    const runner = new FakeRunner(manifest);
    const clock = new ManualClock(DAY0 + 10 * HOUR_MS + 6 * MINUTE_MS);
    const store = new FileStateStore(dir);
    await store.update((st) =>
      ensureCursors(st, { hourly: DAY0 + 9 * HOUR_MS, daily: DAY0 }, schedule)
    );
    const first = scheduler({ runner, clock, store }).s;
    await first.init();
    assert.equal(await drain(first), 1);
    assert.deepEqual(runner.keys(), ["hourly:2026-11-20T09"]);

    // Down from 10:06 on day 0 until 03:00 on day 2; a new process, same state directory.
    clock.set(DAY0 + 2 * DAY_MS + 3 * HOUR_MS);
    const second = scheduler({ runner, clock, store: new FileStateStore(dir) }).s;
    await second.init();
    assert.equal(await drain(second), 14 + 1 + 1 + 1 + 1 + 1);
    assert.deepEqual(runner.keys().slice(1), [
      "hourly:2026-11-20T10",
      "hourly:2026-11-20T11",
      "hourly:2026-11-20T12",
      "hourly:2026-11-20T13",
      "hourly:2026-11-20T14",
      "hourly:2026-11-20T15",
      "hourly:2026-11-20T16",
      "hourly:2026-11-20T17",
      "hourly:2026-11-20T18",
      "hourly:2026-11-20T19",
      "hourly:2026-11-20T20",
      "hourly:2026-11-20T21",
      "hourly:2026-11-20T22",
      "hourly:2026-11-20T23",
      "hourly:2026-11-21",
      "daily:2026-11-20",
      "hourly:2026-11-22T00",
      "daily:2026-11-21",
      "hourly:2026-11-22T01",
    ]);
    const st = await new FileStateStore(dir).load();
    assert.equal(st.cursors.hourly, DAY0 + 2 * DAY_MS + 2 * HOUR_MS);
    assert.equal(st.cursors.daily, DAY0 + 2 * DAY_MS);
    assert.deepEqual(st.slots, {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing run is retried after its backoff and reported in logs, metrics and status", async () => {
  const manifest = new FakeManifest();
  const runner = new FakeRunner(
    manifest,
    (_run, call) =>
      call <= 2
        ? { outcome: "failed", exitCode: 1, error: "exit code 1: Cannot read archive" }
        : { outcome: "succeeded", exitCode: 0 },
  );
  const t0 = DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS;
  const clock = new ManualClock(t0);
  const registry = new Registry();
  const store = new MemoryStateStore(
    ensureCursors(emptyState(), { hourly: DAY0 + 5 * HOUR_MS, daily: DAY0 + DAY_MS }, schedule),
  );
  const { s, records } = scheduler({ runner, clock, store, registry });
  await s.init();

  const r1 = await s.tick();
  assert.equal(r1.ran?.result.outcome, "failed");
  const idle = await s.tick();
  assert.equal(idle.ran, null);
  assert.equal(idle.nextWakeAt, t0 + 30_000);
  const st = s.status();
  assert.equal(st.plan?.waiting.hourly, 1);
  assert.equal(
    st.state?.slots["hourly:2026-11-20T05"].lastError,
    "exit code 1: Cannot read archive",
  );
  assert.ok(
    records.some((r) => r.msg === "batch run failed; retrying with backoff" && r.attempts === 1),
  );
  assert.equal(
    (registry.get("orchestrator_batch_runs_total") as { get(l: object): number }).get({
      schedule: "hourly",
      outcome: "failed",
    }),
    1,
  );

  clock.set(t0 + 29_999);
  assert.equal((await s.tick()).ran, null);
  clock.set(t0 + 30_000);
  assert.equal((await s.tick()).ran?.result.outcome, "failed");
  const wait2 = await s.tick();
  assert.equal(wait2.nextWakeAt, t0 + 30_000 + 60_000);
  clock.set(wait2.nextWakeAt);
  assert.equal((await s.tick()).ran?.result.outcome, "succeeded");
  assert.deepEqual(runner.keys(), Array(3).fill("hourly:2026-11-20T05"));
  assert.match(
    registry.render(),
    /orchestrator_batch_runs_total\{schedule="hourly",outcome="succeeded"\} 1/,
  );
});

Deno.test("out of attempts, a run is marked failed and tried again at the next tick", async () => {
  const manifest = new FakeManifest();
  let broken = true;
  const runner = new FakeRunner(
    manifest,
    () =>
      broken
        ? { outcome: "failed", exitCode: 2, error: "bad" }
        : { outcome: "succeeded", exitCode: 0 },
  );
  const t0 = DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS;
  const clock = new ManualClock(t0);
  const store = new MemoryStateStore(
    ensureCursors(emptyState(), { hourly: DAY0 + 5 * HOUR_MS, daily: DAY0 + DAY_MS }, schedule),
  );
  const { s, records } = scheduler({ runner, clock, store });
  await s.init();
  for (let i = 0; i < 3; i++) {
    const r = await s.tick();
    if (!r.ran) clock.set(r.nextWakeAt);
    if (!r.ran) assert.equal((await s.tick()).ran?.result.outcome, "failed");
  }
  assert.equal(runner.calls.length, 3);
  const next = await s.tick();
  const st = s.status();
  assert.equal(st.state?.slots["hourly:2026-11-20T05"].status, "failed");
  assert.equal(st.plan?.failed.hourly, 1);
  assert.ok(records.some((r) => r.level === "error" && String(r.msg).includes("out of attempts")));
  assert.equal(next.ran, null);
  assert.equal(next.nextWakeAt, DAY0 + 7 * HOUR_MS + 5 * MINUTE_MS);
  broken = false;
  clock.set(next.nextWakeAt);
  assert.deepEqual(await drain(s), 2); // the failed hour 05, then hour 06
  assert.deepEqual(runner.keys().slice(3), ["hourly:2026-11-20T05", "hourly:2026-11-20T06"]);
});

Deno.test("a run that exits 0 without publishing its hour counts as failed", async () => {
  const runner = new FakeRunner(new FakeManifest());
  runner.publish = false;
  const clock = new ManualClock(DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS);
  const store = new MemoryStateStore(
    ensureCursors(emptyState(), { hourly: DAY0 + 5 * HOUR_MS, daily: DAY0 + DAY_MS }, schedule),
  );
  const { s } = scheduler({ runner, clock, store });
  await s.init();
  const r = await s.tick();
  assert.equal(r.ran?.result.outcome, "failed");
  assert.match(r.ran?.result.error ?? "", /did not publish hour\(s\) 2026-11-20T05/);
});

Deno.test("a run interrupted by stopping is recorded as interrupted and due again", async () => {
  const started = deferred();
  const runner = new FakeRunner(new FakeManifest());
  const stop = new AbortController();
  runner.behaviour = () => {
    started.resolve();
    return new Promise((resolve) =>
      stop.signal.addEventListener(
        "abort",
        () => resolve({ outcome: "interrupted", exitCode: null }),
      )
    );
  };
  const clock = new ManualClock(DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS);
  const store = new MemoryStateStore(
    ensureCursors(emptyState(), { hourly: DAY0 + 5 * HOUR_MS, daily: DAY0 + DAY_MS }, schedule),
  );
  const { s } = scheduler({ runner, clock, store });
  const loop = s.run(stop.signal);
  await started.promise;
  assert.equal(s.status().running?.key, "hourly:2026-11-20T05");
  stop.abort();
  await loop;
  const st = await store.load();
  assert.equal(st.slots["hourly:2026-11-20T05"].status, "pending");
  assert.equal(st.last.hourly?.outcome, "interrupted");
  assert.equal(s.status().running, null);
});

Deno.test("two schedulers sharing a state directory never run the same slot twice", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const manifest = new FakeManifest();
    const runs = new Map<string, number>();
    const gates: { key: string; open: () => void }[] = [];
    const behaviour = (run: { key: string }) => {
      runs.set(run.key, (runs.get(run.key) ?? 0) + 1);
      return new Promise<{ outcome: "succeeded"; exitCode: number }>((resolve) =>
        gates.push({ key: run.key, open: () => resolve({ outcome: "succeeded", exitCode: 0 }) })
      );
    };
    const runnerA = new FakeRunner(manifest, behaviour);
    const runnerB = new FakeRunner(manifest, behaviour);
    const clock = new ManualClock(DAY0 + 12 * HOUR_MS + 5 * MINUTE_MS);
    const make = (runner: FakeRunner, owner: string) =>
      scheduler({
        runner,
        clock,
        owner,
        store: new FileStateStore(dir),
        locks: new FileRunLocks(`${dir}/_orchestrator_locks`, { owner }),
        earliestArchived: () => Promise.resolve(DAY0 + 8 * HOUR_MS),
      }).s;
    const a = make(runnerA, "a");
    const b = make(runnerB, "b");
    await a.init();
    await b.init();

    // A takes 08:00 and blocks inside the run; B must skip 08:00 (locked) and take 09:00.
    const tickA = a.tick();
    while (gates.length < 1) await new Promise((r) => setTimeout(r, 0));
    const tickB = b.tick();
    while (gates.length < 2) await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(gates.map((g) => g.key), ["hourly:2026-11-20T08", "hourly:2026-11-20T09"]);
    assert.deepEqual(b.status().lockedElsewhere, ["hourly:2026-11-20T08"]);
    gates[0].open();
    gates[1].open();
    await Promise.all([tickA, tickB]);

    // Both loops over the rest of the backlog at once: every slot runs exactly once.
    const auto = setInterval(() => gates.splice(0).forEach((g) => g.open()), 1);
    try {
      const drainBoth = () => Promise.all([drain(a), drain(b)]);
      await drainBoth();
    } finally {
      clearInterval(auto);
    }
    assert.deepEqual([...runs.keys()].sort(), [
      "hourly:2026-11-20T08",
      "hourly:2026-11-20T09",
      "hourly:2026-11-20T10",
      "hourly:2026-11-20T11",
    ]);
    assert.ok([...runs.values()].every((n) => n === 1), JSON.stringify([...runs]));
    const st = await new FileStateStore(dir).load();
    assert.equal(st.cursors.hourly, DAY0 + 12 * HOUR_MS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a slot published by someone else is not run", async () => {
  const manifest = new FakeManifest();
  manifest.publishHour(DAY0 + 5 * HOUR_MS);
  const runner = new FakeRunner(manifest);
  const clock = new ManualClock(DAY0 + 7 * HOUR_MS + 5 * MINUTE_MS);
  const store = new MemoryStateStore(
    ensureCursors(emptyState(), { hourly: DAY0 + 5 * HOUR_MS, daily: DAY0 + DAY_MS }, schedule),
  );
  const { s } = scheduler({ runner, clock, store });
  await s.init();
  await drain(s);
  assert.deepEqual(runner.keys(), ["hourly:2026-11-20T06"]);
  assert.equal(slotKey("hourly", DAY0 + 5 * HOUR_MS), "hourly:2026-11-20T05");
  assert.equal(s.status().batchThrough, DAY0 + 7 * HOUR_MS);
});

Deno.test("a first start with an archive begins at its earliest hour", async () => {
  const manifest = new FakeManifest();
  const runner = new FakeRunner(manifest);
  const clock = new ManualClock(DAY0 + 3 * HOUR_MS + 5 * MINUTE_MS);
  const { s, records } = scheduler({
    runner,
    clock,
    earliestArchived: () => Promise.resolve(DAY0 + HOUR_MS + 1234),
  });
  await s.init();
  await drain(s);
  assert.deepEqual(runner.keys(), ["hourly:2026-11-20T01", "hourly:2026-11-20T02"]);
  assert.ok(records.some((r) => r.msg === "first start: batch schedule begins"));
});

Deno.test("from a fresh start, batchThrough keeps up with every due hour (no gap from daily runs)", async () => {
  const manifest = new FakeManifest();
  const runner = new FakeRunner(manifest);
  const start = DAY0 + 13 * HOUR_MS + 17 * MINUTE_MS;
  const clock = new ManualClock(start);
  const dailyWithRecompute = testSchedule({
    dailyJobs: ["daily_summary", "user_segmentation", "hourly_aggregate", "views"],
  });
  const { s } = scheduler({ runner, clock, schedule: dailyWithRecompute });
  await s.init();
  while (clock.now() < start + 3 * DAY_MS) {
    let r = await s.tick();
    while (r.ran) r = await s.tick();
    // Everything due has run: batchThrough is the end of the latest due hour.
    const latestDueEnd = Math.floor((clock.now() - 5 * MINUTE_MS) / HOUR_MS) * HOUR_MS;
    assert.equal(s.status().batchThrough, latestDueEnd, new Date(clock.now()).toISOString());
    clock.set(r.nextWakeAt);
  }
  assert.ok(runner.keys().includes("daily:2026-11-21"));
  assert.ok(runner.keys().includes("daily:2026-11-20"));
});
