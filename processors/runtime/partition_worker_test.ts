import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { generate } from "../../generator/generate.ts";
import { MemoryViewStore } from "../store/memory_store.ts";
import { VIEW_TABLES } from "../store/tables.ts";
import { builtinViewJobs } from "../jobs/mod.ts";
import { Sim } from "./_sim.ts";
import { Outcome } from "./partition_worker.ts";

const START = Date.UTC(2026, 10, 20, 8);

function records(total: number, seed = 5) {
  return [...generate({
    seed,
    users: 60,
    courses: 5,
    startMs: START,
    endMs: START + 3 * 3_600_000,
    now: START + 3 * 3_600_000,
    totalEvents: total,
    partitions: 3,
    malformedShare: 0.02,
    duplicateShare: 0.03,
    outOfOrderShare: 0.05,
    lateShare: 0.02,
    tooLarge: false,
  })];
}

function snapshot(store: MemoryViewStore) {
  const out: Record<string, string[]> = {};
  for (const t of VIEW_TABLES) {
    out[t.name] = store.rows(t).map((r) =>
      JSON.stringify(r, (_k, v) => v instanceof Uint8Array ? [...v].join(".") : v)
    ).sort();
  }
  return out;
}

async function runAll(crashes: number[], seed = 5) {
  const store = new MemoryViewStore();
  const sim = new Sim({ jobs: builtinViewJobs({ store, config: { topics: {} as never } }) });
  for (const r of records(6_000, seed)) sim.append(r);
  await sim.runCrashing(crashes, { flushEvery: 97 });
  return { store, sim };
}

Deno.test("crashes at arbitrary points and replays from the checkpoints give the same rows", async () => {
  const clean = await runAll([]);
  const crashed = await runAll([450, 1_333, 2_020, 2_021, 4_999]);
  const a = snapshot(clean.store), b = snapshot(crashed.store);
  for (const t of VIEW_TABLES) assertEquals(b[t.name], a[t.name], t.name);
  assertEquals(a.realtime_video_views.length > 0, true);
  assertEquals(a.clickstream_sessions.length > 0, true);
  assertEquals(a.late_events.length > 0, true);
});

Deno.test("invalid records are dead-lettered once even when replayed after a crash", async () => {
  const clean = await runAll([]);
  const crashed = await runAll([700, 3_100]);
  const key = (d: { topic: string; partition: number; offset: number }) =>
    `${d.topic}/${d.partition}/${d.offset}`;
  assertEquals(clean.sim.dlq.length > 0, true);
  // After a crash only records past the last checkpoint are re-sent; none is lost.
  const cleanKeys = new Set(clean.sim.dlq.map(key));
  const crashedKeys = new Set(crashed.sim.dlq.map(key));
  assertEquals(crashedKeys, cleanKeys);
});

Deno.test("the worker reports duplicates and late events of the generated stream", async () => {
  const { sim } = await runAll([]);
  assertEquals((sim.outcomes.get(Outcome.Duplicate) ?? 0) > 0, true);
  assertEquals((sim.outcomes.get(Outcome.Late) ?? 0) > 0, true);
  assertEquals((sim.outcomes.get(Outcome.Invalid) ?? 0) > 0, true);
});
