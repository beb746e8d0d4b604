import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { TOPIC_KEYS, type TopicKey } from "../../shared/config.ts";
import { generate } from "../../generator/generate.ts";
import { Reference } from "../../generator/reference.ts";
import { MemoryViewStore } from "../store/memory_store.ts";
import { Sim } from "../runtime/_sim.ts";
import { compareWithReference } from "../testing/reference_check.ts";
import { builtinViewJobs } from "./mod.ts";

const START = Date.UTC(2026, 10, 20, 8);
const END = START + 4 * 3_600_000;

Deno.test("every realtime row equals the reference calculator's, crashes included", async () => {
  const records = [...generate({
    seed: 21,
    users: 80,
    courses: 6,
    startMs: START,
    endMs: END,
    now: END,
    totalEvents: 12_000,
    partitions: 3,
    malformedShare: 0.02,
    duplicateShare: 0.03,
    outOfOrderShare: 0.05,
    lateShare: 0.02,
    tooLarge: false,
  })];
  const ref = new Reference(records, { now: END });
  const store = new MemoryViewStore();
  const sim = new Sim({
    jobs: builtinViewJobs({ store, config: { topics: {} as never } }),
    now: END,
  });
  for (const r of records) sim.append(r);
  await sim.runCrashing([1_000, 4_567, 9_000], { flushEvery: 211 });
  const topicKeys = new Map<string, TopicKey>(TOPIC_KEYS.map((t) => [`t_${t.toLowerCase()}`, t]));
  const { diffs, rows } = await compareWithReference(ref, (t) => store.objects(t), { topicKeys });
  assertEquals(diffs.slice(0, 20), []);
  assertEquals(rows > 1_000, true);
  // The dead letters are the reference's rejected records (of the topics the jobs read); a crash
  // may re-send the ones after the last checkpoint, but none is lost.
  const dlqKey = (
    topic: string,
    partition: number,
    offset: number,
    reason: string,
    field: string,
  ) => `${topic}/${partition}/${offset}/${reason}/${field}`;
  assertEquals(
    new Set(
      sim.dlq.map((d) =>
        dlqKey(d.topic, d.partition, d.offset, d.rejection.reason, d.rejection.field)
      ),
    ),
    new Set(
      ref.sets.rejected.filter((r) => r.topic !== "CDC").map((r) =>
        dlqKey(r.topic, r.partition, r.offset, r.reason, r.field)
      ),
    ),
  );
});
