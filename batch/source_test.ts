import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { resolveConfig } from "../shared/config.ts";
import { archiveRow, writeArchive } from "../shared/archive.ts";
import { parseEvent } from "../shared/events.ts";
import type { TopicKey } from "../shared/config.ts";
import { loadEvents, repeatedHashes } from "./source.ts";

const cfg = resolveConfig({});
const DAY = "2025-01-15";

/** One archived copy of an event. */
interface Copy {
  topic: TopicKey;
  partition: number;
  offset: number;
  kafkaTs: number;
  event: Record<string, unknown>;
}

/** Writes each group of copies as one archive file, as the archiver would. */
async function archive(dataDir: string, files: Copy[][]): Promise<void> {
  for (const copies of files) {
    const rows = copies.map((c) => {
      const raw = JSON.stringify(c.event);
      const parsed = parseEvent(c.topic, raw, {
        now: Date.parse("2025-02-01"),
        kafkaTimestamp: c.kafkaTs,
      });
      if (!parsed.ok) throw new Error(`invalid fixture event ${raw}`);
      return archiveRow(parsed.ok, {
        topic: cfg.topics[c.topic],
        partition: c.partition,
        offset: c.offset,
        kafkaTs: c.kafkaTs,
        raw,
        key: String(c.event.user_id),
      });
    });
    await writeArchive(dataDir, rows, { fsync: false });
  }
}

async function withLoaded(
  files: Copy[][],
  check: (
    q: (sql: string) => Promise<unknown[][]>,
    stats: { rowsRead: number; rows: number },
  ) => Promise<void>,
  enumLimit?: number,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "source-test-" });
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    await archive(dataDir, files);
    const stats = await loadEvents([conn], dataDir, {
      dates: [DAY],
      topics: cfg.topics,
      enumLimit,
    });
    const q = async (sql: string) =>
      (await conn.runAndReadAll(sql)).getRows().map((r) =>
        r.map((v) => typeof v === "bigint" ? Number(v) : v)
      );
    await check(q, stats);
  } finally {
    conn.closeSync();
    db.closeSync();
    await Deno.remove(dataDir, { recursive: true });
  }
}

const T = Date.parse(`${DAY}T05:10:00Z`);
const video = (id: string, user: string, videoId: string, action: string, extra = {}, at = T) => ({
  event_id: id,
  user_id: user,
  timestamp: at,
  video_id: videoId,
  course_id: "c1",
  action,
  ...extra,
});
const click = (id: string, user: string, page: string, at = T) => ({
  event_id: id,
  user_id: user,
  timestamp: at,
  session_id: "s1",
  page_url: page,
});

Deno.test("the first copy of an event by (kafka_ts, partition, offset) is kept, whatever the copies hold", async () => {
  const V = "VIDEO" as const, C = "CLICKSTREAM" as const;
  await withLoaded([
    [
      // v1: first copy heartbeat of 10 s by u1 on A; the later copy (other content) is dropped.
      {
        topic: V,
        partition: 0,
        offset: 0,
        kafkaTs: T,
        event: video("v1", "u1", "A", "heartbeat", { watched_sec: 10 }),
      },
      // v3: this copy comes later by kafka_ts although its offset is smaller: dropped.
      {
        topic: V,
        partition: 0,
        offset: 1,
        kafkaTs: T + 10,
        event: video("v3", "u1", "A", "pause"),
      },
      // v4 twice in the same partition: the smaller offset wins on equal kafka_ts.
      { topic: V, partition: 0, offset: 2, kafkaTs: T + 20, event: video("v4", "u3", "A", "play") },
      { topic: V, partition: 0, offset: 3, kafkaTs: T + 20, event: video("v4", "u3", "B", "play") },
      // c1: two copies with different pages; c2 distinct.
      { topic: C, partition: 0, offset: 0, kafkaTs: T, event: click("c1", "u1", "/first") },
      { topic: C, partition: 0, offset: 1, kafkaTs: T + 1, event: click("c1", "u1", "/second") },
      { topic: C, partition: 0, offset: 2, kafkaTs: T + 2, event: click("c2", "u1", "/second") },
    ],
    [
      {
        topic: V,
        partition: 1,
        offset: 0,
        kafkaTs: T + 1000,
        event: video("v1", "u2", "B", "heartbeat", { watched_sec: 20.5 }, T + 3_600_000),
      },
      {
        topic: V,
        partition: 1,
        offset: 1,
        kafkaTs: T + 3,
        event: video("v3", "u1", "A", "complete"),
      },
      // v5: a plain event, and one Kafka record archived in two files (same partition and offset).
      {
        topic: V,
        partition: 1,
        offset: 2,
        kafkaTs: T + 30,
        event: video("v5", "u1", "A", "heartbeat", { watched_sec: 0.1 }),
      },
    ],
    [
      {
        topic: V,
        partition: 1,
        offset: 2,
        kafkaTs: T + 30,
        event: video("v5", "u1", "A", "heartbeat", { watched_sec: 0.1 }),
      },
      {
        topic: V,
        partition: 1,
        offset: 3,
        kafkaTs: T + 40,
        event: video("v6", "u1", "A", "heartbeat", { watched_sec: 1234.5678 }),
      },
    ],
  ], async (q, stats) => {
    assertEquals(stats.rowsRead, 12);
    assertEquals(stats.rows, 7);
    assertEquals(
      await q(`SELECT user_id, video_id, course_id, strftime(hs, '%H'), n, plays, pauses, completes,
          watched::VARCHAR
        FROM ev_video ORDER BY ALL`),
      [
        // v1 (10 s), v3's first copy (complete), v5 once (0.1 s), v6 (1234.5678 s)
        ["u1", "A", "c1", "05", 4, 0, 0, 1, "1244.667800000000"],
        // v4's first copy
        ["u3", "A", "c1", "05", 1, 1, 0, 0, null],
      ],
    );
    assertEquals(
      await q(
        `SELECT page_url::VARCHAR, typeof(page_url) LIKE 'ENUM%' FROM ev_clickstream ORDER BY 1`,
      ),
      [["/first", true], ["/second", true]],
    );
    assertEquals(
      await q(`SELECT tk, sum(n) FROM ev GROUP BY tk ORDER BY tk`),
      [["CLICKSTREAM", 2], ["VIDEO", 5]],
    );
  });
});

Deno.test("pages beyond the ENUM limit are kept as text", async () => {
  const files = [[1, 2, 3].map((i) => ({
    topic: "CLICKSTREAM" as const,
    partition: 0,
    offset: i,
    kafkaTs: T + i,
    event: click(`c${i}`, "u1", `/p${i}`, T + i),
  }))];
  await withLoaded(files, async (q) => {
    assertEquals(await q(`SELECT page_url, typeof(page_url) FROM ev_clickstream ORDER BY 1`), [
      ["/p1", "VARCHAR"],
      ["/p2", "VARCHAR"],
      ["/p3", "VARCHAR"],
    ]);
  }, 2);
  await withLoaded(files, async (q) => {
    assertEquals(
      (await q(`SELECT DISTINCT typeof(page_url) FROM ev_clickstream`))[0][0],
      "ENUM('/p1', '/p2', '/p3')",
    );
  }, 3);
});

Deno.test("repeatedHashes returns each value occurring more than once, once, in order", async () => {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) values.push(100 + Math.floor(Math.random() * 30_000));
    values.push(0, 0, 4294967295, 4294967295, 4294967295, 7);
    await conn.run(`CREATE TABLE v AS SELECT unnest([${values.join(",")}])::UINTEGER AS h`);
    const got = repeatedHashes(await conn.run(`SELECT h FROM v`));
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const want = [...counts].filter(([, c]) => c > 1).map(([v]) => v).sort((a, b) => a - b);
    assertEquals([...got], want);
    assert(want.includes(0) && want.includes(4294967295) && !want.includes(7));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
});
