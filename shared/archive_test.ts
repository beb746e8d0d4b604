import { deepStrictEqual as assertEquals, rejects as assertRejects } from "node:assert/strict";
import { parseEvent } from "./events.ts";
import {
  archiveFileName,
  type ArchiveRow,
  archiveRow,
  decodeArchive,
  encodeArchive,
  listArchiveFiles,
  parseArchiveFileName,
  writeArchive,
} from "./archive.ts";

const NOW = Date.UTC(2026, 10, 20, 12);

function row(raw: string, offset: number, topic = "topic_app_events"): ArchiveRow {
  const r = parseEvent("APP_EVENTS", raw, { now: NOW });
  if (!r.ok) throw new Error(r.err.detail);
  return archiveRow(r.ok, { topic, partition: 2, offset, kafkaTs: NOW + offset, raw, key: "u1" });
}

Deno.test("archive rows round-trip through Parquet with typed fields and the payload", () => {
  const raw = JSON.stringify({
    event_id: "e1",
    user_id: "u1",
    timestamp: "2026-11-20T05:04:03.002+01:00",
    event_type: "click",
    app_type: "web",
    session_id: "s1",
    extra: { deep: [1, 2] },
  });
  const r = row(raw, 7);
  assertEquals(r.date, "2026-11-20");
  assertEquals(r.hour, 4);
  assertEquals(r.eventTime, Date.UTC(2026, 10, 20, 4, 4, 3, 2));
  const back = decodeArchive(encodeArchive([r]));
  assertEquals(back, [r]);
  assertEquals(JSON.parse(back[0].payload!).extra, { deep: [1, 2] });
});

Deno.test("CDC rows get a synthetic event id and the key as user id; tombstones are kept", () => {
  const raw = JSON.stringify({
    payload: {
      before: null,
      after: { id: 1 },
      op: "c",
      source: { table: "users", ts_ms: NOW - 5 },
      ts_ms: NOW - 5,
    },
  });
  const p = parseEvent("CDC", raw, { now: NOW });
  if (!p.ok) throw new Error("cdc event rejected");
  const r = archiveRow(p.ok, {
    topic: "cdc",
    partition: 1,
    offset: 9,
    kafkaTs: NOW,
    raw,
    key: '{"id":1}',
  });
  assertEquals(r.eventId, `users:${NOW - 5}:1:9`);
  assertEquals(r.userId, '{"id":1}');
  assertEquals(r.action, "c");
  const t = parseEvent("CDC", null, { now: NOW, kafkaTimestamp: NOW - 1 });
  if (!t.ok) throw new Error("tombstone rejected");
  const tr = archiveRow(t.ok, {
    topic: "cdc",
    partition: 1,
    offset: 10,
    kafkaTs: NOW - 1,
    raw: null,
    key: null,
  });
  assertEquals(tr.eventId, `:${NOW - 1}:1:10`);
  assertEquals(decodeArchive(encodeArchive([r, tr])), [r, tr]);
});

Deno.test("archive file names carry partition and offset range", () => {
  assertEquals(archiveFileName(3, 10, 20), "p3-10-20.parquet");
  assertEquals(parseArchiveFileName("p3-10-20.parquet"), { partition: 3, first: 10, last: 20 });
  assertEquals(parseArchiveFileName(".tmp-p3-10-20.parquet.1.ab"), undefined);
  assertEquals(parseArchiveFileName("p3-10-20.parquet.tmp"), undefined);
});

Deno.test("writeArchive splits by hour and listArchiveFiles finds the files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const mk = (offset: number, hour: number) =>
      row(
        JSON.stringify({
          event_id: `e${offset}`,
          user_id: "u",
          timestamp: Date.UTC(2026, 10, 20, hour, 1),
          event_type: "click",
          app_type: "web",
          session_id: "s",
        }),
        offset,
      );
    const paths = await writeArchive(dir, [mk(1, 3), mk(2, 4), mk(3, 3)]);
    assertEquals(paths.length, 2);
    const files = await listArchiveFiles(dir);
    assertEquals(files.map((f) => [f.hour, f.first, f.last]), [[3, 1, 3], [4, 2, 2]]);
    assertEquals(decodeArchive(await Deno.readFile(files[0].path)).map((r) => r.offset), [1, 3]);
    assertEquals((await listArchiveFiles(dir, { dates: ["2026-11-21"] })).length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodeArchive rejects a truncated file", async () => {
  const bytes = encodeArchive([row(
    JSON.stringify({
      event_id: "e",
      user_id: "u",
      timestamp: NOW - 1,
      event_type: "click",
      app_type: "web",
      session_id: "s",
    }),
    1,
  )]);
  await assertRejects(async () =>
    await Promise.resolve(decodeArchive(bytes.slice(0, bytes.length - 10)))
  );
});
