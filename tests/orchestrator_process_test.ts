/**
 * The real `deno task orchestrate --streaming false --batch true` against a temporary OUTPUTS_DIR
 * and DATA_DIR with a tiny archive: it catches up the archived hours with real `deno task batch`
 * runs, reports them on /health, stops cleanly on SIGTERM (exit 0) even in the middle of a batch
 * run, leaves no process behind, and the interrupted run is done at the next start.
 * No Kafka or Cassandra needed.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { archiveRow, writeArchive } from "../shared/archive.ts";
import { parseEvent } from "../shared/events.ts";
import { HOUR_MS, MINUTE_MS } from "../shared/time.ts";
import type { HealthReport } from "../orchestrator/health.ts";
import { readManifest } from "../batch/manifest.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
/** Upper bound of any wait below (a hung orchestrator fails the test instead of hanging it). */
const PATIENCE_MS = 180_000;

interface Orchestrator {
  child: Deno.ChildProcess;
  port: number;
  lines: string[];
  exited: Promise<Deno.CommandStatus>;
}

async function start(
  env: Record<string, string>,
  args = ["--streaming", "false", "--batch", "true"],
): Promise<Orchestrator> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "orchestrate", ...args],
    cwd: REPO,
    env: { ORCH_HEALTH_PORT: "0", LOG_LEVEL: "info", APP_ENV: "test", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let port = 0;
  const listening = Promise.withResolvers<void>();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      rest += decoder.decode(bytes, { stream: true });
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        lines.push(line);
        if (line.includes('"orchestrator listening"')) {
          port = JSON.parse(line).port;
          listening.resolve();
        }
      }
    }
  };
  const pumps = Promise.all([read(child.stdout), read(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await pumps;
    listening.resolve();
    return s;
  });
  await listening.promise;
  assert.ok(port > 0, `orchestrator did not start:\n${lines.join("\n")}`);
  return { child, port, lines, exited };
}

async function health(o: Orchestrator): Promise<HealthReport> {
  const res = await fetch(`http://127.0.0.1:${o.port}/health`);
  assert.equal(res.status, 200);
  return await res.json();
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  o: Orchestrator,
): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}; output:\n${o.lines.slice(-40).join("\n")}`);
}

/** Pids of live processes whose environment holds `marker` (ours and all descendants). */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const environ = Deno.readTextFileSync(`/proc/${e.name}/environ`);
      if (!environ.includes(marker)) continue;
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z") continue;
      out.push(Number(e.name));
    } catch {
      // gone meanwhile, or not readable
    }
  }
  return out;
}

async function stopAndCheck(o: Orchestrator, marker: string): Promise<void> {
  o.child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    o.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        for (const pid of processesWith(marker)) Deno.kill(pid, "SIGKILL");
        reject(new Error(`no exit after SIGTERM:\n${o.lines.slice(-30).join("\n")}`));
      }, PATIENCE_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  assert.equal(status.code, 0, `exit ${status.code}; output:\n${o.lines.slice(-30).join("\n")}`);
  assert.ok(o.lines.some((l) => l.includes('"orchestrator stopped"')));
  assert.deepEqual(processesWith(marker), [], "processes left behind");
}

/** A few valid app events per hour in the hours starting at `hours`. */
async function tinyArchive(dataDir: string, hours: number[]): Promise<void> {
  const rows = [];
  let offset = 0;
  for (const h of hours) {
    for (let i = 0; i < 3; i++) {
      const t = h + (i * 7 + 1) * MINUTE_MS;
      const raw = JSON.stringify({
        event_id: `e-${h}-${i}`,
        user_id: `u${i}`,
        timestamp: t,
        event_type: "page_view",
        app_type: "web",
        session_id: `s${i}`,
      });
      const r = parseEvent("APP_EVENTS", raw, { kafkaTimestamp: t, now: t });
      assert.ok(r.ok, JSON.stringify(r));
      rows.push(archiveRow(r.ok, {
        topic: "topic_app_events",
        partition: 0,
        offset: offset++,
        kafkaTs: t,
        raw,
        key: `u${i}`,
      }));
    }
  }
  await writeArchive(dataDir, rows);
}

Deno.test({
  name:
    "deno task orchestrate catches up archived hours, reports them and stops cleanly on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "orch_e2e_" });
    const marker = `ORCH_TEST_MARKER_${crypto.randomUUID()}`;
    try {
      const lastDone = Math.floor((Date.now() - 5 * MINUTE_MS) / HOUR_MS) * HOUR_MS - HOUR_MS;
      await tinyArchive(`${dir}/data`, [lastDone - 2 * HOUR_MS, lastDone - HOUR_MS]);
      const env = { OUTPUTS_DIR: `${dir}/out`, DATA_DIR: `${dir}/data`, [marker]: "1" };
      const o = await start(env);
      const report = await waitFor("the catch-up to finish", async () => {
        const r = await health(o);
        const b = r.batch!;
        return b.running === null && b.behind.hourly === 0 && b.behind.daily === 0 &&
            r.jobs.find((j) => j.name === "views")?.lastRun
          ? r
          : undefined;
      }, o);
      const views = report.jobs.find((j) => j.name === "views")!;
      assert.equal(views.state, "idle");
      assert.equal(views.lastRun?.outcome, "succeeded");
      assert.equal(typeof views.lastRun?.durationMs, "number");
      assert.ok(views.nextRun !== null && Date.parse(views.nextRun) > Date.parse(report.now));
      assert.equal(report.jobs.find((j) => j.name === "archiver")?.state, "disabled");
      // Every hour from the first archived one up to the latest due one is published.
      const manifest = await readManifest(`${dir}/out`);
      for (let h = lastDone - 2 * HOUR_MS; h <= lastDone; h += HOUR_MS) {
        assert.ok(manifest.hours[new Date(h).toISOString().slice(0, 13)], `hour ${h} published`);
      }
      const snapshotDue = Math.floor((Date.parse(report.now) - 5 * MINUTE_MS) / HOUR_MS) * HOUR_MS;
      assert.ok(report.batchThrough !== null && Date.parse(report.batchThrough) >= snapshotDue);
      const metrics = await (await fetch(`http://127.0.0.1:${o.port}/metrics`)).text();
      assert.match(
        metrics,
        /orchestrator_batch_runs_total\{schedule="hourly",outcome="succeeded"\} \d+/,
      );
      await stopAndCheck(o, marker);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "SIGTERM during a batch run stops the run, exits 0, leaves no process; the next start redoes it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "orch_e2e_" });
    const marker = `ORCH_TEST_MARKER_${crypto.randomUUID()}`;
    try {
      const lastDone = Math.floor((Date.now() - 5 * MINUTE_MS) / HOUR_MS) * HOUR_MS - HOUR_MS;
      await tinyArchive(`${dir}/data`, [lastDone]);
      const env = { OUTPUTS_DIR: `${dir}/out`, DATA_DIR: `${dir}/data`, [marker]: "1" };
      // The batch job's fault-injection seam: each run stops before publishing until killed.
      const o = await start({ ...env, BATCH_PAUSE_AT: "staged" });
      const running = await waitFor("a paused batch run", async () => {
        const r = await health(o);
        return r.batch?.running?.pid && o.lines.some((l) => l.includes("paused for a crash test"))
          ? r.batch.running
          : undefined;
      }, o);
      assert.ok(processesWith(marker).includes(running.pid!), "the batch child runs");
      await stopAndCheck(o, marker);
      assert.ok(o.lines.some((l) => l.includes("batch run interrupted")));
      const state = JSON.parse(await Deno.readTextFile(`${dir}/out/_orchestrator_state.json`));
      assert.equal(state.last.hourly?.outcome ?? state.last.daily?.outcome, "interrupted");
      assert.equal(Object.keys((await readManifest(`${dir}/out`)).hours).length, 0);

      // Restart without the pause: the interrupted run is caught up.
      const again = await start(env);
      await waitFor("the interrupted hour to be published", async () => {
        const m = await readManifest(`${dir}/out`);
        return m.hours[new Date(lastDone).toISOString().slice(0, 13)] ? true : undefined;
      }, again);
      await stopAndCheck(again, marker);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "children of a SIGKILLed orchestrator are stopped by the next start",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "orch_e2e_" });
    const marker = `ORCH_TEST_MARKER_${crypto.randomUUID()}`;
    try {
      const lastDone = Math.floor((Date.now() - 5 * MINUTE_MS) / HOUR_MS) * HOUR_MS - HOUR_MS;
      await tinyArchive(`${dir}/data`, [lastDone]);
      const env = { OUTPUTS_DIR: `${dir}/out`, DATA_DIR: `${dir}/data`, [marker]: "1" };
      const o = await start({ ...env, BATCH_PAUSE_AT: "staged" });
      const running = await waitFor("a paused batch run", async () => {
        const r = await health(o);
        return r.batch?.running?.pid && o.lines.some((l) => l.includes("paused for a crash test"))
          ? r.batch.running
          : undefined;
      }, o);
      const orchestrator = processesWith(marker).find((pid) =>
        Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("orchestrator/main.ts")
      );
      assert.ok(orchestrator, "the orchestrator process");
      Deno.kill(orchestrator, "SIGKILL");
      await o.exited;
      assert.ok(processesWith(marker).includes(running.pid!), "the batch child outlived it");

      const again = await start(env);
      assert.ok(again.lines.some((l) => l.includes("stopping a child left by an orchestrator")));
      await waitFor("the hour to be published", async () => {
        const m = await readManifest(`${dir}/out`);
        return m.hours[new Date(lastDone).toISOString().slice(0, 13)] ? true : undefined;
      }, again);
      await stopAndCheck(again, marker);
    } finally {
      for (const pid of processesWith(marker)) Deno.kill(pid, "SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "with --streaming true the stream child runs the enabled jobs and is stopped on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "orch_e2e_" });
    const marker = `ORCH_TEST_MARKER_${crypto.randomUUID()}`;
    try {
      const o = await start({
        OUTPUTS_DIR: `${dir}/out`,
        DATA_DIR: `${dir}/data`,
        HEALTH_PORT: "0",
        DISABLED_JOBS: "archiver,cdc_transformation",
        // No broker here: whether the processors wait for Kafka or exit, SIGTERM must clean up.
        KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1",
        ORCH_STOP_TIMEOUT_SEC: "20",
        [marker]: "1",
      }, ["--streaming", "true", "--batch", "false"]);
      const started = await waitFor("the stream child", () => {
        const line = o.lines.find((l) => l.includes('"stream processors started"'));
        return Promise.resolve(line ? JSON.parse(line) : undefined);
      }, o);
      assert.ok(!started.jobs.includes("archiver") && !started.jobs.includes("cdc_transformation"));
      assert.ok(started.jobs.includes("user_activity"));
      const r = await health(o);
      assert.equal(r.jobs.find((j) => j.name === "archiver")?.state, "disabled");
      assert.ok(["running", "restarting"].includes(r.stream!.state), r.stream!.state);
      assert.equal(r.batch, null);
      await stopAndCheck(o, marker);
    } finally {
      for (const pid of processesWith(marker)) Deno.kill(pid, "SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
