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
import {
  abandon,
  type ProcessorChild,
  stopCleanly,
  untilHealth as until,
} from "../processors/testing/processor_child.ts";
import { Scenario, sleep } from "../processors/testing/scenario.ts";

const EVENTS = Number(Deno.env.get("SPEED_OUTAGE_EVENTS") ?? 60_000);
const OUTAGE_MS = 30_000;

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
      proc = await s.startViews();
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
      await s.assertExact(10_000);
      await stopCleanly(proc);
      proc = undefined;
    } catch (e) {
      if (proc) await abandon(proc);
      throw e;
    } finally {
      if (stopped) await startCassandra();
      await s.cleanup();
    }
  },
});
