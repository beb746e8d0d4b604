/**
 * Exactly-once effect under crashes: while 200 000 generated events (all topics; malformed,
 * duplicate, out-of-order and late ones included) are produced, the `deno task process` child is
 * SIGKILLed at random moments at least 5 times and restarted each time; at the end every realtime
 * row in Cassandra equals the reference calculator's. SPEED_KILL_EVENTS scales the event count.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  abandon,
  type ProcessorChild,
  stopCleanly,
} from "../processors/testing/processor_child.ts";
import { Scenario, sleep } from "../processors/testing/scenario.ts";
import type { HealthReport } from "../processors/runtime/runtime.ts";

const EVENTS = Number(Deno.env.get("SPEED_KILL_EVENTS") ?? 200_000);
const KILLS = 5;

Deno.test({
  name: "speed layer: 5 SIGKILLs while 200k events flow, then every realtime row is exact",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = await Scenario.create({
      events: EVENTS,
      env: { CONSUMER_SESSION_TIMEOUT_MS: "6000" },
    });
    let proc: ProcessorChild | undefined;
    const start = () => s.startViews();
    try {
      proc = await start();
      const producing = s.produce({ batchSize: 1000 });
      let kills = 0;
      while (kills < KILLS) {
        // Kill at a random moment once the child is processing (or replaying) records.
        let seen = 0;
        for (let i = 0; i < 600 && seen < 500; i++) {
          const now: HealthReport | undefined = await proc.health().catch(() => undefined);
          seen = now ? now.stats.records + now.stats.replayed : 0;
          await sleep(50);
        }
        await sleep(Math.random() * 2_000);
        const last: HealthReport | undefined = await proc.health().catch(() => undefined);
        const before = last ? last.stats.records + last.stats.replayed : -1;
        proc.kill("SIGKILL");
        const st: Deno.CommandStatus = await proc.status;
        assertEquals(st.signal, "SIGKILL");
        kills++;
        console.log(`kill ${kills}: after ${before} records read by this child`);
        proc = await start();
      }
      await producing;
      await s.assertExact(20_000);
      await stopCleanly(proc);
      proc = undefined;
    } catch (e) {
      if (proc) await abandon(proc);
      throw e;
    } finally {
      await s.cleanup();
    }
  },
});
