import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { resolveConfig } from "../../../shared/config.ts";
import { parseEvent } from "../../../shared/events.ts";
import { decodeArchive, listArchiveFiles } from "../../../shared/archive.ts";
import type { EventContext, RecordMeta, TaskContext } from "../../runtime/task.ts";
import { archiverJob } from "./mod.ts";

const H = Date.UTC(2026, 10, 20, 5);
const CTX: EventContext = { duplicate: false, late: false, maxEventTimeBefore: -1, watermark: -1 };
const TASK_CTX: TaskContext = {
  topicName: "auth_topic",
  gate: { replayPoint: () => undefined, maxEventTime: -Infinity, watermark: -Infinity },
};

function feed(offset: number, hour: number) {
  const raw = JSON.stringify({
    event_id: `e${offset}`,
    user_id: "u1",
    timestamp: H + hour * 3_600_000 + offset,
    action: "login",
  });
  const r = parseEvent("AUTH", raw, { now: H + 86_400_000 });
  if (!r.ok) throw new Error(r.err.detail);
  const meta: RecordMeta = {
    topic: "AUTH",
    partition: 4,
    offset,
    kafkaTs: H + offset,
    raw,
    key: "u1",
  };
  return [r.ok, meta, false, CTX] as const;
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("archiver flush writes only when a roll is due and checkpoints after the files", async () => {
  await withDir(async (dir) => {
    let now = 1_000;
    const cfg = { ...resolveConfig({}), dataDir: dir };
    const job = archiverJob(cfg, {
      roll: { maxEvents: 4, maxAgeMs: 10_000 },
      now: () => now,
      fsync: false,
    });
    const task = await job.createTask("AUTH", 4, undefined, TASK_CTX);
    task.onEvent(...feed(10, 0));
    task.onEvent(...feed(11, 1));
    assertEquals(task.pending(), 0);
    assertEquals((await task.flush(12)).nextOffset, 10); // nothing written: where the data starts
    assertEquals((await listArchiveFiles(dir)).length, 0);
    now += 10_000; // age rule
    assertEquals(task.pending(), 2);
    const cp = await task.flush(12);
    assertEquals(cp, { nextOffset: 12, replayOffset: 12, replayMaxEventTime: -1, watermark: -1 });
    const files = await listArchiveFiles(dir);
    assertEquals(
      files.map((f) => `${f.topic}/${f.date}/${f.hour}/${f.partition}-${f.first}-${f.last}`),
      [
        "auth_topic/2026-11-20/5/4-10-10",
        "auth_topic/2026-11-20/6/4-11-11",
      ],
    );
    for (let o = 12; o < 16; o++) task.onEvent(...feed(o, 0)); // size rule
    assertEquals(task.pending(), 4);
    assertEquals((await task.flush(16)).nextOffset, 16);
    // no roll due: the last committed checkpoint again
    assertEquals(await task.flush(20), { ...cp, nextOffset: 20, replayOffset: 20 }); // empty buffer: the position
    const rows = (await Promise.all((await listArchiveFiles(dir)).map(async (f) =>
      decodeArchive(await Deno.readFile(f.path))
    )))
      .flat().map((r) =>
        r.offset
      ).sort((a, b) => a - b);
    assertEquals(rows, [10, 11, 12, 13, 14, 15]);
  });
});

Deno.test("a new owner removes files written after the checkpoint and skips covered offsets", async () => {
  await withDir(async (dir) => {
    const cfg = { ...resolveConfig({}), dataDir: dir };
    const job = archiverJob(cfg, { roll: { maxEvents: 2 }, fsync: false });
    const a = await job.createTask("AUTH", 4, undefined, TASK_CTX);
    a.onEvent(...feed(0, 0));
    a.onEvent(...feed(1, 0));
    const stored = await a.flush(2); // the runtime stores this one
    a.onEvent(...feed(2, 0));
    a.onEvent(...feed(3, 2));
    await a.flush(4); // files written, then the process dies before the checkpoint is stored
    await Deno.writeFile(
      `${dir}/master/topic=auth_topic/date=2026-11-20/hour=05/.tmp-p4-4-5.parquet.1.ab`,
      new Uint8Array(3),
    );
    assertEquals((await listArchiveFiles(dir)).length, 3);
    const b = await job.createTask("AUTH", 4, stored, TASK_CTX);
    assertEquals((await listArchiveFiles(dir, { includeTemp: true })).map((f) => f.first), [0]);
    for (let o = 1; o < 4; o++) {
      const [ev, meta] = feed(o, o === 3 ? 2 : 0);
      b.onEvent(ev, meta, o < 2, CTX);
    }
    assertEquals((await b.flush(4)).nextOffset, 4);
    const offsets = (await Promise.all((await listArchiveFiles(dir)).map(async (f) =>
      decodeArchive(await Deno.readFile(f.path))
    )))
      .flat().map((r) =>
        r.offset
      ).sort((x, y) => x - y);
    assertEquals(offsets, [0, 1, 2, 3]);
  });
});

Deno.test("a failed roll keeps its rows; events fed meanwhile follow them in the retry", async () => {
  await withDir(async (dir) => {
    const cfg = { ...resolveConfig({}), dataDir: `${dir}/missing` };
    const job = archiverJob(cfg, { roll: { maxEvents: 2 }, fsync: false });
    const task = await job.createTask("AUTH", 4, undefined, TASK_CTX);
    task.onEvent(...feed(0, 0));
    task.onEvent(...feed(1, 0));
    await Deno.writeTextFile(`${dir}/missing`, "a file where the data directory should be");
    await rejects(task.flush(2));
    task.onEvent(...feed(2, 0));
    await Deno.remove(`${dir}/missing`);
    assertEquals((await task.flush(3)).nextOffset, 3);
    const files = await listArchiveFiles(`${dir}/missing`);
    assertEquals(files.map((f) => [f.first, f.last]), [[0, 2]]);
  });
});
