import assert from "node:assert/strict";
import { HOUR_MS } from "../shared/time.ts";
import { DAY0, FakeSpawner, testSchedule } from "./_testing.ts";
import { ManualClock } from "./clock.ts";
import { TaskBatchRunner } from "./runner.ts";
import { emptyState, ensureCursors, plan } from "./scheduler.ts";

const o = testSchedule();
const run = plan(
  ensureCursors(emptyState(), { hourly: DAY0 + 5 * HOUR_MS }, { ...o, dailyJobs: [] }),
  DAY0 + 7 * HOUR_MS,
  { hours: new Set(), days: new Map() },
  { ...o, dailyJobs: [] },
).runnable[0];

function setup() {
  const clock = new ManualClock(DAY0);
  const spawner = new FakeSpawner();
  const runner = new TaskBatchRunner({
    spawner,
    deno: "/usr/bin/deno",
    cwd: "/repo",
    env: { OUTPUTS_DIR: "/out", DATA_DIR: "/data" },
    timeoutMs: 60_000,
    stopTimeoutMs: 5_000,
    clock,
  });
  return { clock, spawner, runner };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 0));
}

Deno.test("a run is the child deno task batch with the planned arguments", async () => {
  const { spawner, runner } = setup();
  let pid = 0;
  const result = runner.run(run, { onStart: (p) => (pid = p) });
  const child = await spawner.nth(1);
  assert.equal(child.spec.command, "/usr/bin/deno");
  assert.deepEqual(child.spec.args, [
    "task",
    "batch",
    "--hour",
    "2026-11-20 05:00",
    "--jobs",
    "hourly_aggregate,views",
  ]);
  assert.equal(child.spec.cwd, "/repo");
  assert.deepEqual(child.spec.env, { OUTPUTS_DIR: "/out", DATA_DIR: "/data" });
  assert.equal(pid, child.pid);
  child.exit(0);
  assert.deepEqual(await result, { outcome: "succeeded", exitCode: 0 });
});

Deno.test("a non-zero exit fails the run with the child's last message", async () => {
  const { spawner, runner } = setup();
  const result = runner.run(run);
  const child = await spawner.nth(1);
  child.stderr = ["Task batch deno run -A batch/main.ts", "batch failed: archive unreadable"];
  child.exit(1);
  assert.deepEqual(await result, {
    outcome: "failed",
    exitCode: 1,
    error: "exit code 1: batch failed: archive unreadable",
  });
});

Deno.test("a run past its time-out is stopped and fails", async () => {
  const { clock, spawner, runner } = setup();
  const result = runner.run(run);
  const child = await spawner.nth(1);
  await until(() => clock.sleepers === 1);
  clock.advance(59_999);
  assert.deepEqual(child.signals, []);
  clock.advance(1);
  const r = await result;
  assert.deepEqual(child.signals, ["SIGTERM"]);
  assert.equal(r.outcome, "failed");
  assert.match(r.error ?? "", /timed out after 1 min/);
});

Deno.test("stopping the orchestrator interrupts a run: SIGTERM, then SIGKILL after the grace", async () => {
  const { clock, spawner, runner } = setup();
  spawner.exitOn = [];
  const stop = new AbortController();
  const result = runner.run(run, { signal: stop.signal });
  const child = await spawner.nth(1);
  stop.abort();
  await until(() => child.signals.length === 1 && clock.sleepers === 1);
  assert.equal(child.groupKilled, false);
  clock.advance(5_000);
  assert.deepEqual(await result, { outcome: "interrupted", exitCode: null });
  assert.equal(child.groupKilled, true);
});

Deno.test("a run that cannot start fails without throwing", async () => {
  const { spawner, runner } = setup();
  spawner.failNext = new Deno.errors.NotFound("no such file");
  const r = await runner.run(run);
  assert.equal(r.outcome, "failed");
  assert.match(r.error ?? "", /cannot start deno task batch/);
});
