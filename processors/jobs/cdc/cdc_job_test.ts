import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parseEvent, type Rejection } from "../../../shared/events.ts";
import { Registry } from "../../../shared/metrics.ts";
import { EventGate } from "../../operators/event_gate.ts";
import type { Checkpoint, PartitionTask } from "../../runtime/task.ts";
import { MemoryViewStore } from "../../store/memory_store.ts";
import { LATE_EVENTS } from "../../store/tables.ts";
import { CDC_OPERATIONS, cdcTransformationJob } from "./cdc_job.ts";
import { createDimFeed } from "./dim_feed.ts";
import { decodeRows, listOffsetFiles } from "./offset_files.ts";
import { TRANSFORMED_COLUMNS, type TransformedRow } from "./transformed_rows.ts";
import { MemoryUserDimStore } from "./user_dim.ts";
import { pgChange, userKey } from "./_fixtures.ts";

const M = Date.UTC(2026, 10, 20, 5, 0, 0);
const MIN = 60_000;

interface Rec {
  raw: string | null;
  key: string | null;
  kafkaTs: number;
}

/** A small stand-in for the runtime: one gate per partition, events in offset order. */
class Harness {
  gate: EventGate;
  constructor(readonly task: PartitionTask, resume?: Checkpoint) {
    const init = resume && resume.replayMaxEventTime !== -1 ? resume.replayMaxEventTime : undefined;
    this.gate = new EventGate({ allowedLatenessMs: 10 * MIN, initialMaxEventTime: init });
  }
  feed(recs: readonly Rec[], from: number, partition = 0): number {
    const resume = this.task.resumeFrom;
    let offset = from;
    for (const r of recs) {
      const p = parseEvent("CDC", r.raw, { now: M + 86_400_000, kafkaTimestamp: r.kafkaTs });
      if (p.ok) {
        const d = this.gate.decide(undefined, p.ok.eventTime, r.kafkaTs, offset);
        this.task.onEvent(
          p.ok,
          { topic: "CDC", partition, offset, kafkaTs: r.kafkaTs, raw: r.raw, key: r.key },
          resume !== undefined && offset < resume.nextOffset,
          d,
        );
      }
      offset++;
    }
    return offset;
  }
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function setup(dir: string, roll = { maxRows: 1, maxAgeMs: 0 }) {
  const viewStore = new MemoryViewStore();
  const dims = new MemoryUserDimStore();
  const feed = createDimFeed();
  const published: string[] = [];
  feed.subscribe((ids) => published.push(...ids));
  const metrics = new Registry();
  const job = cdcTransformationJob({ outputsDir: dir }, {
    viewStore,
    dims,
    roll,
    fsync: false,
    dimFeed: feed,
    metrics,
  });
  return { job, viewStore, dims, published, metrics };
}

async function start(
  job: ReturnType<typeof setup>["job"],
  resume?: Checkpoint,
  rejected: [number, Rejection][] = [],
) {
  const gateHolder: { h?: Harness } = {};
  const task = await job.createTask("CDC", 0, resume, {
    topicName: "topic_cdc_changes",
    reject: (meta, rejection) => rejected.push([meta.offset, rejection]),
    gate: {
      replayPoint: () => gateHolder.h!.gate.replayPoint(),
      get maxEventTime() {
        return gateHolder.h!.gate.maxEventTime;
      },
      get watermark() {
        return gateHolder.h!.gate.watermark;
      },
    },
  });
  gateHolder.h = new Harness(task, resume);
  return gateHolder.h;
}

async function parquetRows(dir: string): Promise<TransformedRow[]> {
  const files = await listOffsetFiles(`${dir}/cdc_transformed`);
  const rows = (await Promise.all(
    files.map(async (f) => decodeRows(TRANSFORMED_COLUMNS, await Deno.readFile(f.path))),
  )).flat();
  return rows.sort((a, b) => a.offset - b.offset);
}

function summaries(store: MemoryViewStore) {
  return store.rows(CDC_OPERATIONS).map((v) => ({
    table: v[0],
    minute: v[1],
    kpart: v[2],
    counts: v.slice(3),
  })).sort((a, b) =>
    (a.table as string).localeCompare(b.table as string) ||
    (a.minute as number) - (b.minute as number)
  );
}

const u1 = { id: "u1", email: "a@x.io", country: "DE", plan: "free" };

Deno.test("summaries count each op per table and minute; repeats and tombstones do not count", async () => {
  await withDir(async (dir) => {
    const { job, viewStore, metrics } = setup(dir);
    const h = await start(job);
    const recs: Rec[] = [
      { raw: pgChange("r", M + 1000, { after: u1, lsn: 100 }), key: userKey("u1"), kafkaTs: M },
      {
        raw: pgChange("c", M + 2000, { after: { id: "u2" }, lsn: 200, wrapped: true }),
        key: userKey("u2", true),
        kafkaTs: M + 1,
      },
      {
        raw: pgChange("u", M + 3000, { before: u1, after: { ...u1, plan: "premium" }, lsn: 300 }),
        key: userKey("u1"),
        kafkaTs: M + 2,
      },
      // the same update again (a connector restart re-sends it): not counted twice
      {
        raw: pgChange("u", M + 3000, { before: u1, after: { ...u1, plan: "premium" }, lsn: 300 }),
        key: userKey("u1"),
        kafkaTs: M + 3,
      },
      {
        raw: pgChange("d", M + MIN + 5, { before: { id: "u2" }, lsn: 400 }),
        key: userKey("u2"),
        kafkaTs: M + 4,
      },
      { raw: null, key: userKey("u2"), kafkaTs: M + 5 },
      {
        raw: pgChange("c", M + MIN + 6, { after: { id: "c1" }, lsn: 500, table: "courses" }),
        key: userKey("c1"),
        kafkaTs: M + 6,
      },
      {
        raw: pgChange("t", M + MIN + 7, { lsn: 600, table: "courses" }),
        key: null,
        kafkaTs: M + 7,
      },
    ];
    const end = h.feed(recs, 0);
    const cp = await h.task.flush(end);
    assertEquals(cp.nextOffset, 8);
    assertEquals(summaries(viewStore), [
      { table: "courses", minute: M + MIN, kpart: 0, counts: [1, 0, 0, 0, 1] },
      { table: "users", minute: M, kpart: 0, counts: [1, 1, 0, 1, 0] },
      { table: "users", minute: M + MIN, kpart: 0, counts: [0, 0, 1, 0, 0] },
    ]);
    const rows = await parquetRows(dir);
    assertEquals(rows.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7]);
    assertEquals(
      rows.map((r) => r.kind),
      ["SNAPSHOT", "INSERT", "UPDATE", "UPDATE", "DELETE", "TOMBSTONE", "INSERT", "TRUNCATE"],
    );
    assertEquals(rows[3].duplicate, true);
    assertEquals(rows[2].changedFields, '["plan"]');
    assertEquals(JSON.parse(rows[2].before!).plan, "free");
    assertEquals(JSON.parse(rows[2].after!).plan, "premium");
    assertEquals([rows[5].key, rows[5].table, rows[5].op], ['{"id":"u2"}', null, null]);
    assertEquals(rows[0].position, "lsn:100");
    assertEquals(
      (metrics.get("cdc_repeated_changes_total") as { get(l: object): number }).get({
        table: "users",
      }),
      1,
    );
  });
});

Deno.test("users_dim keeps the newest state; an older change arriving later never overwrites it", async () => {
  await withDir(async (dir) => {
    const { job, dims, published } = setup(dir);
    const h = await start(job);
    const v1 = { ...u1, plan: "free" };
    const v2 = { ...u1, plan: "premium" };
    const v3 = { ...u1, plan: "team" };
    let o = h.feed([
      { raw: pgChange("c", M, { after: v1, lsn: 10 }), key: userKey("u1"), kafkaTs: M },
      // newer (lsn 30) before older (lsn 20)
      {
        raw: pgChange("u", M + 2000, { before: v2, after: v3, lsn: 30 }),
        key: userKey("u1"),
        kafkaTs: M + 1,
      },
      {
        raw: pgChange("u", M + 1000, { before: v1, after: v2, lsn: 20 }),
        key: userKey("u1"),
        kafkaTs: M + 2,
      },
    ], 0);
    await h.task.flush(o);
    let d = (await dims.get(["u1"])).get("u1")!;
    assertEquals([d.fields.plan, d.deleted, d.sourcePosition], ["team", false, "lsn:30"]);
    assertEquals(published, ["u1"]);
    const rows = await parquetRows(dir);
    assertEquals(rows.map((r) => r.stale), [false, false, true]);
    assertEquals(rows[2].writeTs, null);
    // Same millisecond, higher lsn: the tie step still orders them in Cassandra.
    o = h.feed([
      {
        raw: pgChange("u", M + 5000, { before: v3, after: { ...v3, plan: "x" }, lsn: 40 }),
        key: userKey("u1"),
        kafkaTs: M + 3,
      },
      {
        raw: pgChange("u", M + 5000, { before: v3, after: { ...v3, plan: "y" }, lsn: 41 }),
        key: userKey("u1"),
        kafkaTs: M + 4,
      },
    ], o);
    await h.task.flush(o);
    d = (await dims.get(["u1"])).get("u1")!;
    assertEquals(d.fields.plan, "y");
    assertEquals(d.cdcTs, (M + 5000) * 1000 + 1);
  });
});

Deno.test("rows written from two partitions in any order end at the newest state (last write wins)", async () => {
  await withDir(async (dir) => {
    const a = setup(dir);
    const dims = a.dims;
    const jobB = cdcTransformationJob({ outputsDir: `${dir}/b` }, {
      viewStore: new MemoryViewStore(),
      dims,
      roll: { maxRows: 1, maxAgeMs: 0 },
      fsync: false,
    });
    const ha = await start(a.job);
    const hb = await start(jobB);
    // B holds the newer change but writes first; A's older one must lose.
    hb.feed([{
      raw: pgChange("u", M + 9000, { after: { ...u1, plan: "new" }, lsn: 90 }),
      key: userKey("u1"),
      kafkaTs: M,
    }], 0);
    await hb.task.flush(1);
    ha.feed([{
      raw: pgChange("u", M + 1000, { after: { ...u1, plan: "old", bio: "b" }, lsn: 10 }),
      key: userKey("u1"),
      kafkaTs: M,
    }], 0);
    await ha.task.flush(1);
    const d = (await dims.get(["u1"])).get("u1")!;
    assertEquals(d.fields.plan, "new");
    assertEquals(d.fields.bio, undefined, "the older map never mixes into the newer one");
  });
});

Deno.test("a delete marks the user deleted; a truncate deletes every older user; re-inserts live", async () => {
  await withDir(async (dir) => {
    const { job, dims, published } = setup(dir);
    const h = await start(job);
    const o = h.feed([
      { raw: pgChange("c", M, { after: u1, lsn: 10 }), key: userKey("u1"), kafkaTs: M },
      {
        raw: pgChange("c", M + 1, { after: { id: "u2" }, lsn: 11 }),
        key: userKey("u2"),
        kafkaTs: M,
      },
      { raw: pgChange("d", M + 2, { before: null, lsn: 12 }), key: userKey("u2"), kafkaTs: M },
      { raw: null, key: userKey("u2"), kafkaTs: M },
      { raw: pgChange("t", M + 100, { lsn: 20 }), key: null, kafkaTs: M + 1 },
      {
        raw: pgChange("c", M + 200, { after: { id: "u3" }, lsn: 30 }),
        key: userKey("u3"),
        kafkaTs: M + 2,
      },
    ], 0);
    await h.task.flush(o);
    const got = await dims.get(["u1", "u2", "u3"]);
    assertEquals(got.get("u1")!.deleted, true, "truncated");
    assertEquals(got.get("u1")!.fields.email, "a@x.io", "last known fields are kept");
    assertEquals(got.get("u2")!.deleted, true);
    assertEquals(got.get("u3")!.deleted, false);
    assert(published.includes("*"), "a truncate tells caches to drop everything");
  });
});

Deno.test("a change the job rejects is dead-lettered, counted, not applied, and kept as a REJECTED row", async () => {
  await withDir(async (dir) => {
    const { job, dims, viewStore, metrics } = setup(dir);
    const rejected: [number, Rejection][] = [];
    const h = await start(job, undefined, rejected);
    const raw = pgChange("c", M, { after: { email: "no-id@x.io" }, lsn: 10 });
    const o = h.feed([
      { raw, key: null, kafkaTs: M },
      { raw: pgChange("u", M, { after: { id: "u2" }, lsn: 11 }), key: userKey("u1"), kafkaTs: M },
    ], 0);
    await h.task.flush(o);
    assertEquals(dims.rows.size, 0);
    assertEquals(summaries(viewStore), []);
    const rows = await parquetRows(dir);
    assertEquals(rows.map((r) => [r.kind, r.error]), [
      ["REJECTED", "missing_field:key"],
      ["REJECTED", "invalid_value:key"],
    ]);
    assertEquals(rows[0].raw, raw);
    assertEquals(rejected.map(([o, r]) => [o, r.reason, r.field]), [
      [0, "missing_field", "key"],
      [1, "invalid_value", "key"],
    ]);
    const c = metrics.get("cdc_rejected_total") as { get(l: object): number };
    assertEquals([c.get({ reason: "missing_field" }), c.get({ reason: "invalid_value" })], [1, 1]);
  });
});

Deno.test("a change later than the allowed lateness is not counted in summaries but in late_events", async () => {
  await withDir(async (dir) => {
    const { job, viewStore } = setup(dir);
    const h = await start(job);
    const o = h.feed([
      { raw: pgChange("c", M + 30 * MIN, { after: u1, lsn: 10 }), key: userKey("u1"), kafkaTs: M },
      {
        raw: pgChange("u", M, { after: { ...u1, plan: "p" }, lsn: 5 }),
        key: userKey("u1"),
        kafkaTs: M + 1,
      },
    ], 0);
    await h.task.flush(o);
    assertEquals(summaries(viewStore).map((s) => s.minute), [M + 30 * MIN]);
    const late = viewStore.rows(LATE_EVENTS);
    assertEquals(late.map((r) => [r[0], r[2], r[3], r[4]]), [
      ["cdc_transformation", "topic_cdc_changes", 0, 1],
    ]);
    const rows = await parquetRows(dir);
    assertEquals(rows.map((r) => [r.late, r.stale]), [[false, false], [true, true]]);
  });
});

Deno.test("Parquet rolls by size and age; the checkpoint stays at the first offset not in a file", async () => {
  await withDir(async (dir) => {
    let now = 0;
    const viewStore = new MemoryViewStore();
    const job = cdcTransformationJob({ outputsDir: dir }, {
      viewStore,
      dims: new MemoryUserDimStore(),
      roll: { maxRows: 3, maxAgeMs: 1000 },
      fsync: false,
      now: () => now,
    });
    const h = await start(job);
    let o = h.feed([
      { raw: pgChange("c", M, { after: u1, lsn: 1 }), key: userKey("u1"), kafkaTs: M },
      { raw: pgChange("c", M, { after: { id: "u2" }, lsn: 2 }), key: userKey("u2"), kafkaTs: M },
    ], 0);
    let cp = await h.task.flush(o);
    assertEquals([cp.nextOffset, (await parquetRows(dir)).length], [0, 0]);
    assertEquals(summaries(viewStore)[0].counts, [2, 0, 0, 0, 0], "Cassandra is written anyway");
    now = 1000;
    cp = await h.task.flush(o);
    assertEquals([cp.nextOffset, (await parquetRows(dir)).length], [2, 2]);
    o = h.feed([
      { raw: pgChange("c", M, { after: { id: "u3" }, lsn: 3 }), key: userKey("u3"), kafkaTs: M },
      { raw: pgChange("c", M, { after: { id: "u4" }, lsn: 4 }), key: userKey("u4"), kafkaTs: M },
      { raw: pgChange("c", M, { after: { id: "u5" }, lsn: 5 }), key: userKey("u5"), kafkaTs: M },
    ], o);
    cp = await h.task.flush(o);
    assertEquals(cp.nextOffset, 5);
    assertEquals((await listOffsetFiles(`${dir}/cdc_transformed`)).map((f) => f.first), [0, 2]);
    // Replay needs the open minute and the 1-hour repeat memory: from offset 0.
    assertEquals(cp.replayOffset, 0);
  });
});

Deno.test("after a crash the new owner deletes files past the checkpoint and replays to the same outputs", async () => {
  await withDir(async (dir) => {
    const users = Array.from({ length: 12 }, (_, i) => `u${i}`);
    const recs: Rec[] = users.map((id, i) => ({
      raw: pgChange(i % 3 === 0 ? "c" : "r", M + i * 20_000, { after: { id }, lsn: 10 + i }),
      key: userKey(id),
      kafkaTs: M + i,
    }));
    // A reference run without a crash.
    const ref = setup(`${dir}/ref`, { maxRows: 4, maxAgeMs: 60_000 });
    const hr = await start(ref.job);
    for (let i = 0; i < 12; i += 4) {
      hr.feed(recs.slice(i, i + 4), i);
      await hr.task.flush(i + 4);
    }
    // The crashing run: checkpoint stored after offset 4, files written up to 8, then a crash.
    const a = setup(`${dir}/run`, { maxRows: 4, maxAgeMs: 60_000 });
    const h1 = await start(a.job);
    h1.feed(recs.slice(0, 4), 0);
    const stored = await h1.task.flush(4);
    h1.feed(recs.slice(4, 8), 4);
    await h1.task.flush(8); // written, but the checkpoint never reaches the store
    h1.feed(recs.slice(8, 10), 8);
    await h1.task.flush(10);
    await Deno.writeFile(
      `${dir}/run/cdc_transformed/date=2026-11-20/.tmp-p0-8-9.parquet.1.ab`,
      new Uint8Array(3),
    );
    assertEquals(stored.nextOffset, 4);
    const job2 = cdcTransformationJob({ outputsDir: `${dir}/run` }, {
      viewStore: a.viewStore,
      dims: a.dims,
      roll: { maxRows: 4, maxAgeMs: 60_000 },
      fsync: false,
    });
    const h2 = await start(job2, stored);
    const files = await listOffsetFiles(`${dir}/run/cdc_transformed`, { includeTemp: true });
    assertEquals(files.map((f) => f.first), [0], "files from the checkpoint on are gone");
    h2.feed(recs.slice(stored.replayOffset, 12), stored.replayOffset);
    for (const p of [8, 12]) await h2.task.flush(p);
    const got = await parquetRows(`${dir}/run`);
    assertEquals(got.map((r) => r.offset), [...Array(12).keys()]);
    const want = await parquetRows(`${dir}/ref`);
    assertEquals(got, want);
    assertEquals(summaries(a.viewStore), summaries(ref.viewStore));
    assertEquals(await a.dims.get(users), await ref.dims.get(users));
  });
});
