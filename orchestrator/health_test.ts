import assert from "node:assert/strict";
import { Registry } from "../shared/metrics.ts";
import { HOUR_MS, MINUTE_MS } from "../shared/time.ts";
import { DAY0, FakeManifest, FakeRunner, memoryLogger, testSchedule } from "./_testing.ts";
import { BatchScheduler } from "./batch_scheduler.ts";
import { ManualClock } from "./clock.ts";
import { createHealthApp, type HealthReport, type JobHealth } from "./health.ts";
import { emptyState, ensureCursors } from "./scheduler.ts";
import { MemoryStateStore } from "./state.ts";
import type { StreamStatus } from "./supervisor.ts";

const schedule = testSchedule({
  dailyJobs: ["daily_summary", "user_segmentation", "hourly_aggregate", "views"],
});

async function fixture(fail: boolean, maxAttempts = 3) {
  const t0 = DAY0 + 6 * HOUR_MS + 5 * MINUTE_MS;
  const clock = new ManualClock(t0);
  const registry = new Registry();
  const runner = new FakeRunner(
    new FakeManifest(),
    () =>
      fail
        ? { outcome: "failed", exitCode: 1, error: "exit code 1: boom" }
        : { outcome: "succeeded", exitCode: 0 },
  );
  const batch = new BatchScheduler({
    schedule: { ...schedule, maxAttempts },
    store: new MemoryStateStore(
      ensureCursors(emptyState(), { hourly: DAY0 + 5 * HOUR_MS, daily: DAY0 }, schedule),
    ),
    locks: {
      tryAcquire: (keys) => Promise.resolve({ keys, release: () => Promise.resolve() }),
      holder: () => Promise.resolve(null),
    },
    runner,
    published: runner.manifest.source,
    owner: "me",
    log: memoryLogger().log,
    registry,
    clock,
  });
  await batch.init();
  clock.advance(1500);
  await batch.tick();
  await batch.tick();
  const stream: StreamStatus = {
    state: "running",
    jobs: ["user_activity", "archiver"],
    pid: 42,
    startedAt: DAY0,
    restarts: 2,
    lastExit: null,
    nextStartAt: null,
  };
  const app = createHealthApp({
    startedAt: DAY0,
    now: () => clock.now(),
    stream: () => stream,
    batch: () => batch.status(),
    hourlyJobs: schedule.hourlyJobs,
    dailyJobs: schedule.dailyJobs,
    registry,
  });
  return { app, clock, t0 };
}

const job = (r: HealthReport, name: string) => r.jobs.find((j) => j.name === name) as JobHealth;

Deno.test("/health lists every job with state, last run, outcome, duration and next run", async () => {
  const { app, t0 } = await fixture(false);
  const res = await app.request("/health");
  assert.equal(res.status, 200);
  const r = await res.json() as HealthReport;
  assert.equal(r.status, "ok");
  assert.equal(r.jobs.length, 14); // 10 stream jobs + 4 batch jobs
  assert.equal(job(r, "user_activity").state, "running");
  assert.equal(job(r, "user_activity").pid, 42);
  assert.equal(job(r, "video_views").state, "disabled");
  assert.equal(r.stream?.startedAt, new Date(DAY0).toISOString());
  assert.equal(r.stream?.restarts, 2);
  const hourly = job(r, "hourly_aggregate");
  assert.equal(hourly.state, "idle");
  assert.equal(hourly.schedule, "hourly");
  assert.deepEqual(hourly.lastRun, {
    startedAt: new Date(t0 + 1500).toISOString(),
    finishedAt: new Date(t0 + 1500).toISOString(),
    durationMs: 0,
    outcome: "succeeded",
    run: "hourly:2026-11-20T05",
  });
  assert.equal(hourly.nextRun, new Date(DAY0 + 7 * HOUR_MS + 5 * MINUTE_MS).toISOString());
  assert.equal(job(r, "daily_summary").nextRun, new Date(DAY0 + 26 * HOUR_MS).toISOString());
  assert.equal(job(r, "daily_summary").lastRun, null);
  assert.equal(r.batchThrough, new Date(DAY0 + 6 * HOUR_MS).toISOString());
});

Deno.test("/health reports a run waiting for its retry", async () => {
  const { app, t0 } = await fixture(true);
  const r = await (await app.request("/health")).json() as HealthReport;
  assert.equal(r.status, "ok"); // retrying is not yet degraded
  const hourly = job(r, "views");
  assert.equal(hourly.state, "retrying");
  assert.equal(hourly.lastRun?.outcome, "failed");
  assert.equal(hourly.lastRun?.error, "exit code 1: boom");
  assert.equal(hourly.nextRun, new Date(t0 + 1500 + 30_000).toISOString());
  assert.equal(r.batch?.failing[0].slot, "hourly:2026-11-20T05");
  assert.equal(r.batch?.failing[0].attempts, 1);
});

Deno.test("/health says degraded once a run is out of attempts", async () => {
  const { app } = await fixture(true, 1);
  const r = await (await app.request("/health")).json() as HealthReport;
  assert.equal(r.status, "degraded");
  assert.equal(job(r, "hourly_aggregate").state, "failed");
  assert.equal(r.batch?.failed.hourly, 1);
  assert.equal(r.batch?.failing[0].status, "failed");
  assert.equal(
    job(r, "hourly_aggregate").nextRun,
    new Date(DAY0 + 7 * HOUR_MS + 5 * MINUTE_MS).toISOString(),
  );
});

Deno.test("/metrics is Prometheus text with the batch metrics", async () => {
  const { app } = await fixture(false);
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/plain; version=0.0.4/);
  const text = await res.text();
  assert.match(text, /orchestrator_batch_runs_total\{schedule="hourly",outcome="succeeded"\} 1/);
  assert.match(text, /orchestrator_batch_slots_behind\{schedule="hourly"\} 0/);
  assert.match(text, /orchestrator_batch_run_duration_seconds_count\{schedule="hourly"\} 1/);
});
