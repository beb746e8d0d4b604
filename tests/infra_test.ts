import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { partitionFor } from "../shared/partitioner.ts";
import { createCassandraClient, prepare } from "../shared/cassandra.ts";
import { createKafka, createProducer } from "../shared/kafka.ts";
import { applySchema, schemaStatements } from "../infra/schema.ts";
import { ensureTopics, platformTopics } from "../infra/topics.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";

const REAL = { sanitizeOps: false, sanitizeResources: false };

/** The tables of docs/DESIGN.md "Realtime views" (schema.cql may hold more). */
const VIEW_TABLES = [
  "app_event_counts_rt",
  "clickstream_sessions",
  "events_aggregated_realtime",
  "late_events",
  "realtime_assessment_scores",
  "realtime_course_engagement",
  "realtime_notification_funnel",
  "realtime_user_activity",
  "realtime_video_views",
  "stream_checkpoints",
];

Deno.test("platform topics are the input topics, their DLQs and enriched_events", () => {
  const env = isolatedTestEnv({ id: "abc" });
  const topics = platformTopics(env.cfg);
  assertEquals(topics.length, 19);
  assert(topics.includes("t_abc_topic_app_events"));
  assert(topics.includes("t_abc_topic_app_events.dlq"));
  assertEquals(topics.at(-1), "enriched_events");
  Deno.removeSync(env.tmpDir, { recursive: true });
});

Deno.test("schema statements fill the keyspace and refuse a bad name", async () => {
  const cql = await Deno.readTextFile(new URL("../infra/schema.cql", import.meta.url));
  const stmts = schemaStatements(cql, "k1", 3);
  assertEquals(stmts.length, cql.match(/^CREATE /gm)?.length);
  for (const t of VIEW_TABLES) assert(stmts.some((s) => s.includes(`k1.${t} (`)), t);
  assert(stmts[0].includes("'replication_factor': 3"));
  assert(stmts.every((s) => !s.includes("{{")));
  let threw = false;
  try {
    schemaStatements(cql, "bad-name; DROP");
  } catch (e) {
    threw = e instanceof RangeError;
  }
  assert(threw);
});

Deno.test(
  "topics are created idempotently and kafkajs round-trips keyed messages",
  REAL,
  async () => {
    await ensureServers();
    const env = isolatedTestEnv();
    try {
      const first = await ensureTopics(env.cfg, { enrichedTopic: env.enrichedTopic });
      assertEquals(first.created.length, 19);
      const second = await ensureTopics(env.cfg, { enrichedTopic: env.enrichedTopic });
      assertEquals(second.created, []);
      assertEquals(second.existing.length, 19);

      const kafka = createKafka(env.cfg, `t_${env.id}`);
      const topic = env.cfg.topics.VIDEO;
      const producer = createProducer(kafka);
      await producer.connect();
      const sent = Array.from({ length: 20 }, (_, i) => ({
        key: `user-${i}`,
        value: JSON.stringify({ event_id: `e${i}`, user_id: `user-${i}`, timestamp: Date.now() }),
      }));
      await producer.send({ topic, messages: sent });
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId: `t_${env.id}_g` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: { key: string; value: string; partition: number }[] = [];
      const done = Promise.withResolvers<void>();
      await consumer.run({
        eachMessage: ({ message, partition }) => {
          got.push({ key: String(message.key), value: String(message.value), partition });
          if (got.length === sent.length) done.resolve();
          return Promise.resolve();
        },
      });
      const timer = setTimeout(() => done.reject(new Error(`got ${got.length} of 20`)), 30_000);
      await done.promise.finally(() => clearTimeout(timer));
      await consumer.disconnect();

      assertEquals(got.map((m) => m.value).sort(), sent.map((m) => m.value).sort());
      for (const m of got) {
        assertEquals(
          m.partition,
          partitionFor(m.key, 6),
          `partition of ${m.key}`,
        );
      }
    } finally {
      await env.cleanup();
    }
  },
);

Deno.test("schema applies twice and a realtime row round-trips", REAL, async () => {
  await ensureServers();
  const env = isolatedTestEnv();
  const client = createCassandraClient(env.cfg, { keyspace: false });
  try {
    const a = await applySchema(env.cfg, { client });
    const b = await applySchema(env.cfg, { client });
    assertEquals(a.statements, b.statements);
    const rs = await client.execute(
      "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
      [env.cfg.cassandraKeyspace],
    );
    const tables = new Set(rs.rows.map((r) => r.table_name as string));
    for (const t of VIEW_TABLES) assert(tables.has(t), `table ${t} exists`);
    assertEquals(tables.size, a.statements - 1);

    const ks = env.cfg.cassandraKeyspace;
    const minute = new Date("2026-11-20T05:07:00Z");
    const upsert = prepare(
      client,
      `INSERT INTO ${ks}.realtime_video_views (video_id, minute, kpart, plays, completes,
         watch_seconds, unique_viewers) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?`,
    );
    await upsert.execute(["v1", minute, 3, 5, 1, 42.5, new Uint8Array([1, 2, 3]), 3600, 11]);
    // A stale writer (lower timestamp) never wins.
    await upsert.execute(["v1", minute, 3, 1, 0, 0, new Uint8Array([]), 3600, 10]);
    const row = (await prepare(
      client,
      `SELECT plays, completes, watch_seconds, unique_viewers FROM ${ks}.realtime_video_views
         WHERE video_id = ? AND minute = ? AND kpart = ?`,
    ).execute(["v1", minute, 3])).first();
    assertEquals(Number(row.plays), 5);
    assertEquals(Number(row.completes), 1);
    assertEquals(row.watch_seconds, 42.5);
    assertEquals([...row.unique_viewers], [1, 2, 3]);

    await prepare(
      client,
      `UPDATE ${ks}.late_events SET late = ? WHERE "view" = ? AND hour = ? AND topic = ? AND kpart = ?`,
    )
      .execute([2, "video_views", new Date("2026-11-20T05:00:00Z"), "video_topic", 0]);
    const late = await client.execute(`SELECT late FROM ${ks}.late_events WHERE "view" = ?`, [
      "video_views",
    ], {
      prepare: true,
    });
    assertEquals(Number(late.first().late), 2);
  } finally {
    await client.shutdown();
    await env.cleanup();
  }
});
