/**
 * Cassandra outage: the local Cassandra is stopped for 30 s while generated events flow. The
 * processor keeps retrying with backoff (consumer paused), /health reports the outage with its
 * reason meanwhile, and once Cassandra is back every realtime row equals the reference.
 *
 * It stops the shared local Cassandra, so it is skipped with EDU_SERVERS=external (not ours to
 * stop) or SPEED_SKIP_OUTAGE=1 (others are using the servers right now).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { startCassandra, stopCassandra } from "../infra/local/mod.ts";
import { type ProcessorChild, startProcessor } from "../processors/testing/processor_child.ts";
import { Scenario, sleep, VIEW_JOB_NAMES } from "../processors/testing/scenario.ts";
import type { HealthReport } from "../processors/runtime/runtime.ts";

const EVENTS = Number(Deno.env.get("SPEED_OUTAGE_EVENTS") ?? 60_000);
const OUTAGE_MS = 30_000;

async function until(p: ProcessorChild, ok: (h: HealthReport) => boolean, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await p.health().catch(() => undefined);
    if (h && ok(h)) return h;
    if (Date.now() > deadline) {
      throw new Error(`condition not reached:\n${p.logs.slice(-20).join("\n")}`);
    }
    await sleep(100);
  }
}

Deno.test({
  name: "speed layer: a 30 s Cassandra outage is waited out, reported, and leaves rows exact",
  ignore: Deno.env.get("EDU_SERVERS") === "external" || Deno.env.get("SPEED_SKIP_OUTAGE") === "1",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = await Scenario.create({
      events: EVENTS,
      seed: 23,
      env: { CONSUMER_SESSION_TIMEOUT_MS: "10000" },
    });
    let proc: ProcessorChild | undefined;
    let stopped = false;
    try {
      proc = await startProcessor(s.env.env, {
        jobs: VIEW_JOB_NAMES,
        logFile: Deno.env.get("SPEED_LOG_FILE"),
      });
      const producing = s.produce({ batchSize: 500 });
      await until(proc, (h) => h.stats.records > 3_000, 60_000);
      await stopCassandra();
      stopped = true;
      const down = Date.now();
      const degraded = await until(
        proc,
        (h) => h.status === "degraded" && h.cassandra.state === "down",
        OUTAGE_MS,
      );
      assertEquals(degraded.reasons.length > 0, true);
      console.log(`degraded after ${Date.now() - down} ms: ${degraded.reasons[0].slice(0, 120)}`);
      // Still degraded later in the outage (retrying, not given up).
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - down) - 2_000));
      const still = await proc.health();
      assertEquals([still.status, still.cassandra.state], ["degraded", "down"]);
      await startCassandra();
      stopped = false;
      const back = Date.now();
      await until(proc, (h) => h.status === "ok" && h.cassandra.state === "up", 120_000);
      console.log(`recovered ${Date.now() - back} ms after Cassandra accepted clients again`);
      await producing;
      await s.waitCovered(150_000);
      const { diffs, rows } = await s.compare();
      assertEquals(diffs.slice(0, 20), []);
      assertEquals(rows > 10_000, true, `only ${rows} rows compared`);
      proc.kill("SIGTERM");
      assertEquals((await proc.status).code, 0);
      proc = undefined;
    } catch (e) {
      if (proc) {
        console.error(proc.logs.slice(-30).join("\n"));
        proc.kill("SIGKILL");
        await proc.status;
      }
      throw e;
    } finally {
      if (stopped) await startCassandra();
      await s.cleanup();
    }
  },
});
