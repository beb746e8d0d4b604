import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import type { StreamJob } from "../../shared/config.ts";
import type { ValidEvent } from "../../shared/events.ts";
import { Sim, type SimDlq } from "./_sim.ts";
import { Outcome } from "./partition_worker.ts";
import type { Checkpoint, JobDefinition, PartitionTask, RecordMeta, TaskContext } from "./task.ts";

const T = Date.UTC(2026, 10, 20, 8);

/** A video event; `bad` ones are rejected by the {@link picky} job. */
function video(i: number, bad: boolean): string {
  return JSON.stringify({
    event_id: `e${i}`,
    user_id: "u1",
    timestamp: T + i * 1000,
    video_id: bad ? `bad${i}` : `v${i}`,
    course_id: "c1",
    action: "play",
  });
}

interface Seen {
  offsets: number[];
  replayed: number[];
}

/**
 * A job over VIDEO that rejects videos named `bad…` (also while replaying: the runtime must ignore
 * those calls) and replays from `replayFrom` after a restart. `name` picks the StreamJob slot.
 */
function picky(
  name: StreamJob,
  o: { rejects: boolean; replayFrom?: number; seen?: Seen; contexts?: TaskContext[] },
): JobDefinition {
  return {
    name,
    topics: ["VIDEO"],
    createTask(_topic, _partition, resume, ctx) {
      o.contexts?.push(ctx!);
      let position = resume?.nextOffset ?? 0;
      let pending = 0;
      const task: PartitionTask = {
        resumeFrom: resume,
        onEvent(event: ValidEvent, meta: RecordMeta, replaying: boolean) {
          if (replaying) o.seen?.replayed.push(meta.offset);
          else o.seen?.offsets.push(meta.offset);
          if (!replaying) pending++;
          const data = event.data as { video_id?: string };
          if (o.rejects && data.video_id?.startsWith("bad")) {
            ctx!.reject!(meta, { reason: "invalid_value", field: "video_id", detail: "bad video" });
          }
        },
        pending: () => pending,
        flush(pos = position): Promise<Checkpoint> {
          position = pos;
          pending = 0;
          return Promise.resolve({
            nextOffset: pos,
            replayOffset: Math.min(pos, o.replayFrom ?? pos),
            replayMaxEventTime: -1,
            watermark: -1,
          });
        },
        close: () => Promise.resolve(),
      };
      return Promise.resolve(task);
    },
  };
}

function load(sim: Sim, n: number, badEvery = 4): number[] {
  const bad: number[] = [];
  for (let i = 0; i < n; i++) {
    const isBad = i % badEvery === 1;
    if (isBad) bad.push(i);
    sim.append({ topic: "VIDEO", partition: 0, kafkaTs: T + i * 1000, value: video(i, isBad) });
  }
  return bad;
}

const offsets = (dlq: SimDlq[]) => dlq.map((d) => d.offset);

Deno.test("a record a job rejects is dead-lettered once with its reason and the job, and other jobs still get it", async () => {
  const seen: Seen = { offsets: [], replayed: [] };
  const sim = new Sim({
    jobs: [
      picky("cdc_transformation", { rejects: true }),
      picky("archiver", { rejects: false, seen }),
    ],
  });
  const bad = load(sim, 40);
  await sim.run(Infinity, { flushEvery: 9 });
  await sim.flush();
  assertEquals(offsets(sim.dlq), bad);
  assertEquals(sim.dlq[0].rejection, {
    reason: "invalid_value",
    field: "video_id",
    detail: "bad video",
  });
  assertEquals(sim.dlq[0].job, "cdc_transformation");
  assertEquals(sim.outcomes.get(Outcome.Invalid), bad.length);
  assertEquals(seen.offsets.length, 40, "the archiver got every record, rejected ones too");
});

Deno.test("a parser rejection carries no job", async () => {
  const sim = new Sim({ jobs: [picky("archiver", { rejects: true })] });
  sim.append({ topic: "VIDEO", partition: 0, kafkaTs: T, value: "{not json" });
  sim.append({ topic: "VIDEO", partition: 0, kafkaTs: T, value: video(1, true) });
  await sim.run();
  assertEquals(sim.dlq.map((d) => [d.offset, d.rejection.reason, d.job]), [
    [0, "invalid_json", undefined],
    [1, "invalid_value", "archiver"],
  ]);
});

Deno.test("after a crash, job rejections below the job's checkpoint are not dead-lettered again", async () => {
  // The job replays everything from offset 0 and calls reject() while replaying: ignored.
  const seen: Seen = { offsets: [], replayed: [] };
  const sim = new Sim({
    jobs: [picky("cdc_transformation", { rejects: true, replayFrom: 0, seen })],
  });
  const bad = load(sim, 60);
  await sim.run(30, { flushEvery: 1_000 });
  await sim.flush(); // checkpoint nextOffset 30
  await sim.run(10, { flushEvery: 1_000 }); // 30..39 handled, not flushed
  await sim.crash();
  await sim.run(Infinity, { flushEvery: 1_000 });
  await sim.flush();
  assert(seen.replayed.length === 30, "offsets below the checkpoint were replayed");
  const once = bad.filter((o) => o < 30);
  const again = bad.filter((o) => o >= 30 && o < 40); // after the checkpoint: at-least-once
  const after = bad.filter((o) => o >= 40);
  assertEquals(offsets(sim.dlq), [...once, ...again, ...again, ...after]);
});

Deno.test("a job rejects only the record of its running onEvent call", async () => {
  const contexts: TaskContext[] = [];
  const sim = new Sim({ jobs: [picky("archiver", { rejects: false, contexts })] });
  load(sim, 3);
  await sim.run();
  const meta: RecordMeta = {
    topic: "VIDEO",
    partition: 0,
    offset: 2,
    kafkaTs: T,
    raw: null,
    key: null,
  };
  throws(
    () => contexts[0].reject!(meta, { reason: "invalid_value", field: "x", detail: "late call" }),
    /outside its onEvent call/,
  );
});
