/**
 * @module
 * Unit-test helper of the view jobs: feeds hand-written events of one topic partition through the
 * simulated runtime into a memory store.
 */
import type { TopicKey } from "../../shared/config.ts";
import { MemoryViewStore } from "../store/memory_store.ts";
import { Sim } from "../runtime/_sim.ts";
import type { JobDefinition } from "../runtime/task.ts";
import type { ViewJobDeps } from "./view_job.ts";

/** The start of the test hour (2026-11-20 05:00 UTC). */
export const T0 = Date.UTC(2026, 10, 20, 5);
export const MIN = 60_000;

let seq = 0;

/** An event body with the common fields filled in (event time `t`, epoch ms). */
export function ev(t: number, fields: Record<string, unknown>): Record<string, unknown> {
  return { event_id: `e${++seq}`, user_id: "u1", timestamp: new Date(t).toISOString(), ...fields };
}

/**
 * Runs a job over events of one topic (partition 0, arrival in the given order, Kafka timestamp =
 * event time unless `kafkaTs` is given) and returns the store after a final quiet flush.
 */
export async function runJob(
  job: (deps: ViewJobDeps) => JobDefinition,
  topic: TopicKey,
  events: (Record<string, unknown> & { kafkaTs?: number })[],
  options: { flushEvery?: number; allowedLatenessMs?: number } = {},
): Promise<MemoryViewStore> {
  const store = new MemoryViewStore();
  const sim = new Sim({
    jobs: [job({ store, config: { topics: {} as never } })],
    allowedLatenessMs: options.allowedLatenessMs,
  });
  for (const { kafkaTs, ...e } of events) {
    sim.append({
      topic,
      partition: 0,
      kafkaTs: kafkaTs ?? Date.parse(e.timestamp as string),
      value: JSON.stringify(e),
    });
  }
  await sim.runCrashing([], { flushEvery: options.flushEvery ?? 1, chunk: 1 });
  return store;
}
