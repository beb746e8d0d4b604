/**
 * Scale-out is recovery: while generated events are produced, a second processor replica joins
 * the consumer group mid-run (partitions move to it) and later leaves with SIGTERM (they move
 * back); at the end every realtime row equals the reference calculator's.
 * SPEED_REBALANCE_EVENTS scales the event count.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  abandon,
  type ProcessorChild,
  stopCleanly,
  untilHealth as until,
} from "../processors/testing/processor_child.ts";
import { Scenario, sleep } from "../processors/testing/scenario.ts";

const EVENTS = Number(Deno.env.get("SPEED_REBALANCE_EVENTS") ?? 100_000);

Deno.test({
  name: "speed layer: a replica joins mid-run and leaves again; every realtime row is exact",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = await Scenario.create({
      events: EVENTS,
      seed: 11,
      env: { CONSUMER_SESSION_TIMEOUT_MS: "6000" },
    });
    const procs: ProcessorChild[] = [];
    const start = async () => {
      const p = await s.startViews();
      procs.push(p);
      return p;
    };
    try {
      const a = await start();
      const producing = s.produce({ batchSize: 1000 });
      await until(a, (h) => h.stats.records > 5_000);
      const b = await start();
      // The group rebalances: both replicas own partitions and process records.
      const hb = await until(b, (h) => h.assignedPartitions > 0 && h.stats.records > 1_000);
      const ha = await until(a, (h) => h.assignedPartitions > 0 && h.assignedPartitions < 48);
      assertEquals(ha.assignedPartitions + hb.assignedPartitions, 48);
      await sleep(1_000 + Math.random() * 2_000);
      await stopCleanly(b, "the leaving replica stops cleanly");
      // Its partitions move back to the first replica.
      await until(a, (h) => h.assignedPartitions === 48);
      await producing;
      await s.assertExact(10_000);
      await stopCleanly(a);
    } catch (e) {
      for (const p of procs) await abandon(p, 20);
      throw e;
    } finally {
      for (const p of procs) await p.status;
      await s.cleanup();
    }
  },
});
