import assert from "node:assert/strict";
import { Registry } from "../shared/metrics.ts";
import { FakeSpawner, memoryLogger } from "./_testing.ts";
import { ManualClock } from "./clock.ts";
import { StreamSupervisor } from "./supervisor.ts";

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 0));
}

function setup(start = 1_000_000) {
  const clock = new ManualClock(start);
  const spawner = new FakeSpawner();
  const { log, records } = memoryLogger();
  const registry = new Registry();
  const sup = new StreamSupervisor({
    jobs: ["user_activity", "archiver"],
    spawner,
    cwd: "/repo",
    env: { OUTPUTS_DIR: "/o" },
    log,
    clock,
    backoffBaseMs: 1000,
    backoffMaxMs: 8000,
    resetAfterMs: 60_000,
    stopTimeoutMs: 5000,
    metrics: {
      restarts: registry.counter("restarts_total", "r"),
      up: registry.gauge("up", "u"),
    },
  });
  return { clock, spawner, records, registry, sup };
}

Deno.test("the stream child is deno task process --jobs with the enabled jobs", async () => {
  const { spawner, sup } = setup();
  const stop = new AbortController();
  const loop = sup.run(stop.signal);
  const child = await spawner.nth(1);
  assert.deepEqual(child.spec.args, ["task", "process", "--jobs", "user_activity,archiver"]);
  assert.equal(child.spec.cwd, "/repo");
  assert.deepEqual(child.spec.env, { OUTPUTS_DIR: "/o" });
  assert.equal(sup.status().state, "running");
  assert.equal(sup.status().pid, child.pid);
  stop.abort();
  await loop;
});

Deno.test("a child that dies is restarted with exponential backoff", async () => {
  const { clock, spawner, sup, registry, records } = setup();
  const stop = new AbortController();
  const loop = sup.run(stop.signal);
  const delays: number[] = [];
  for (let n = 1; n <= 5; n++) {
    const child = await spawner.nth(n);
    clock.advance(10); // up 10 ms, then crashes
    child.exit(1);
    await until(() => clock.sleepers === 1);
    const st = sup.status();
    assert.equal(st.state, "restarting");
    assert.equal(st.lastExit?.code, 1);
    assert.equal(spawner.children.length, n); // nothing started before the delay is over
    delays.push(st.nextStartAt! - clock.now());
    clock.set(st.nextStartAt!);
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
  await spawner.nth(6);
  assert.equal(sup.status().restarts, 5);
  assert.equal((registry.get("restarts_total") as { get(): number }).get(), 5);
  assert.ok(records.some((r) => r.msg === "stream processors exited; restarting" && r.code === 1));
  stop.abort();
  await loop;
});

Deno.test("a child that stayed up long enough resets the backoff", async () => {
  const { clock, spawner, sup } = setup();
  const stop = new AbortController();
  const loop = sup.run(stop.signal);
  for (let n = 1; n <= 3; n++) {
    (await spawner.nth(n)).exit(1);
    await until(() => clock.sleepers === 1);
    clock.set(sup.status().nextStartAt!);
  }
  const fourth = await spawner.nth(4);
  clock.advance(60_000);
  fourth.exit(1);
  await until(() => clock.sleepers === 1);
  assert.equal(sup.status().nextStartAt! - clock.now(), 1000);
  stop.abort();
  await loop;
});

Deno.test("stop sends SIGTERM and waits for the child to exit", async () => {
  const { spawner, sup, registry } = setup();
  const stop = new AbortController();
  const loop = sup.run(stop.signal);
  const child = await spawner.nth(1);
  assert.equal((registry.get("up") as { get(): number }).get(), 1);
  stop.abort();
  await loop;
  assert.deepEqual(child.signals, ["SIGTERM"]);
  assert.equal(child.groupKilled, false);
  assert.equal(sup.status().state, "stopped");
  assert.equal((registry.get("up") as { get(): number }).get(), 0);
  assert.equal(spawner.children.length, 1);
});

Deno.test("a child that ignores SIGTERM is killed with its group after the grace period", async () => {
  const { clock, spawner, sup } = setup();
  spawner.exitOn = [];
  const stop = new AbortController();
  const loop = sup.run(stop.signal);
  const child = await spawner.nth(1);
  stop.abort();
  await until(() => child.signals.length === 1 && clock.sleepers === 1);
  assert.equal(clock.nextWake, clock.now() + 5000);
  assert.equal(child.groupKilled, false);
  clock.advance(5000);
  await loop;
  assert.equal(child.groupKilled, true);
  assert.equal(sup.status().state, "stopped");
});

Deno.test("a child that cannot start is retried like one that died", async () => {
  const { clock, spawner, sup } = setup();
  spawner.failNext = new Error("deno: not found");
  const stop = new AbortController();
  const loop = sup.run(stop.signal);
  await until(() => clock.sleepers === 1);
  assert.match(sup.status().lastExit?.error ?? "", /cannot start: Error: deno: not found/);
  clock.advance(1000);
  await spawner.nth(1);
  stop.abort();
  await loop;
});

Deno.test("stopping while waiting to restart starts nothing more", async () => {
  const { clock, spawner, sup } = setup();
  const stop = new AbortController();
  const loop = sup.run(stop.signal);
  (await spawner.nth(1)).exit(1);
  await until(() => clock.sleepers === 1);
  stop.abort();
  await loop;
  assert.equal(spawner.children.length, 1);
  assert.equal(sup.status().state, "stopped");
});

Deno.test("the last exit of a crashed child carries its last error line", async () => {
  const { clock, spawner, sup } = setup();
  const stop = new AbortController();
  const loop = sup.run(stop.signal);
  const child = await spawner.nth(1);
  child.stderr = ["Task process deno run -A processors/main.ts", "error: cannot reach Kafka"];
  child.exit(1);
  await until(() => clock.sleepers === 1);
  assert.equal(sup.status().lastExit?.error, "error: cannot reach Kafka");
  stop.abort();
  await loop;
});
