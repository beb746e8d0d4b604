/**
 * SIGKILL recovery of `cdc_transformation` and `data_enrichment` with the real speed layer:
 * generated traffic (Debezium changes with and without the schema wrapper, snapshots, deletes
 * with tombstones, malformed records, re-sent duplicates, out-of-order and late arrivals) is
 * produced in chunks while `deno task process --jobs cdc_transformation,data_enrichment` is
 * killed with SIGKILL at random moments and restarted. Afterwards:
 *
 * - `cdc_operations_rt` equals a reference computed here from the records read back from Kafka
 *   (per partition, in offset order, with the late rule of docs/DESIGN.md);
 * - `cdc_transformed` Parquet holds every valid CDC record exactly once by (partition, offset);
 * - `enriched_events`, read with a read_committed consumer, holds every valid event of the eight
 *   user topics exactly once by its (topic, partition, offset) headers, and so does the enriched
 *   Parquet output.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Kafka } from "kafkajs";
import { generate } from "../generator/generate.ts";
import { produceRecords } from "../generator/produce.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { TOPIC_KEYS, type TopicKey } from "../shared/config.ts";
import { type CdcPayload, parseEvent } from "../shared/events.ts";
import { createKafka, createProducer } from "../shared/kafka.ts";
import { floorMinute } from "../shared/time.ts";
import { decodeRows, listOffsetFiles } from "../processors/jobs/cdc/offset_files.ts";
import { TRANSFORMED_COLUMNS } from "../processors/jobs/cdc/transformed_rows.ts";
import { ENRICHED_COLUMNS, HEADERS } from "../processors/jobs/enrichment/enriched.ts";
import { ensureServers, isolatedTestEnv, randomId } from "./_servers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const USER_TOPICS = TOPIC_KEYS.filter((t) => t !== "CDC");
const LATENESS = 600_000;

interface Input {
  topic: TopicKey;
  partition: number;
  offset: number;
  kafkaTs: number;
  value: string | null;
}

/** Reads every record of the topics back (input topics are not transactional). */
async function readBack(kafka: Kafka, names: Map<string, TopicKey>, groupId: string) {
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, number>();
  for (const name of names.keys()) {
    for (const p of await admin.fetchTopicOffsets(name)) {
      if (Number(p.high) > 0) remaining.set(`${name}/${p.partition}`, Number(p.high) - 1);
    }
  }
  await admin.disconnect();
  const out: Input[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  const finished = Promise.withResolvers<void>();
  await consumer.subscribe({ topics: [...names.keys()], fromBeginning: true });
  await consumer.run({
    eachMessage: ({ topic, partition, message }) => {
      const offset = Number(message.offset);
      out.push({
        topic: names.get(topic)!,
        partition,
        offset,
        kafkaTs: Number(message.timestamp),
        value: message.value === null ? null : message.value.toString(),
      });
      const k = `${topic}/${partition}`;
      if (remaining.get(k) === offset) remaining.delete(k);
      if (remaining.size === 0) finished.resolve();
      return Promise.resolve();
    },
  });
  await finished.promise;
  await consumer.disconnect();
  return out;
}

/** Commits a sentinel message last in every partition of the output topic. */
async function writeSentinels(kafka: Kafka, topic: string, partitions: number, id: string) {
  const producer = createProducer(kafka, {
    transactionalId: `${id}-sentinel`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const tx = await producer.transaction();
  await tx.send({
    topic,
    messages: Array.from({ length: partitions }, (_, p) => ({ partition: p, value: "sentinel" })),
  });
  await tx.commit();
  await producer.disconnect();
}

/**
 * Reads enriched_events up to the sentinels: read_committed (what consumers see), or
 * read_uncommitted (also the messages of transactions aborted by the kills).
 */
async function readEnriched(
  kafka: Kafka,
  topic: string,
  partitions: number,
  groupId: string,
  readUncommitted = false,
) {
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 << 20, readUncommitted });
  const keys: string[] = [];
  const waiting = new Set(Array.from({ length: partitions }, (_, p) => p));
  const finished = Promise.withResolvers<void>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ partition, message }) => {
      const h = message.headers ?? {};
      if (h[HEADERS.topic] === undefined) {
        waiting.delete(partition);
        if (waiting.size === 0) finished.resolve();
      } else {
        keys.push(`${h[HEADERS.topic]}/${h[HEADERS.partition]}/${h[HEADERS.offset]}`);
      }
      return Promise.resolve();
    },
  });
  await finished.promise;
  await consumer.disconnect();
  return keys;
}

Deno.test({
  name: "after SIGKILLs, CDC summaries match the reference and every output holds each record once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureServers();
    const id = randomId();
    const env = isolatedTestEnv({
      id,
      env: {
        HEALTH_PORT: "0",
        LOG_LEVEL: "warn",
        ALLOWED_LATENESS_MS: String(LATENESS),
      },
    });
    const enrichedTopic = env.enrichedTopic;
    await env.setup();
    const cfg = env.cfg;
    const P = cfg.topicPartitions;
    const kafka = createKafka(cfg, "cdc-enrichment-kill", { logLevel: "nothing" });
    const client = createCassandraClient(cfg);
    const log = await Deno.open(`${env.tmpDir}/processors.log`, { write: true, create: true });
    let proc: Deno.ChildProcess | undefined;
    let pumps: Promise<unknown>[] = [];
    const start = () => {
      proc = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "processors/main.ts", "--jobs", "cdc_transformation,data_enrichment"],
        env: env.env,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      pumps = [proc.stdout, proc.stderr].map((s) =>
        s.pipeTo(log.writable, { preventClose: true }).catch(() => {})
      );
    };
    const kills: number[] = [];
    const startups: number[] = [];
    try {
      const end = Date.now() - 120_000;
      const records = [
        ...generate({
          seed: 606,
          users: 250,
          startMs: end - 3 * 3_600_000,
          endMs: end,
          totalEvents: 16_000,
          partitions: P,
          tooLarge: false,
          deleteShare: 0.02,
        }),
      ];
      const chunks = 6;
      const size = Math.ceil(records.length / chunks);
      /** Sum of both jobs' checkpointed next offsets: grows when a process flushed. */
      const progress = async () => {
        const rs = await client.execute(
          "SELECT next_offset FROM stream_checkpoints WHERE consumer_group = ?",
          [cfg.consumerGroup],
          { prepare: true },
        );
        return rs.rows.reduce((s, r) => s + Number(r.next_offset), 0);
      };
      start();
      for (let c = 0; c < chunks; c++) {
        const before = await progress();
        const produced = produceRecords(cfg, records.slice(c * size, (c + 1) * size), {
          batchSize: 200,
        });
        // Kill only once this process has stored progress, then at a random moment after.
        const t0 = Date.now();
        const deadline = t0 + 120_000;
        while (await progress() <= before) {
          if (Date.now() > deadline) throw new Error(`process ${c} made no progress`);
          await sleep(100);
        }
        const wait = Math.floor(Math.random() * 2500);
        startups.push(Date.now() - t0);
        await sleep(wait);
        proc!.kill("SIGKILL");
        await produced;
        await proc!.status;
        await Promise.all(pumps);
        kills.push(wait);
        start();
      }
      // Let the last process catch up: every checkpoint of both jobs at its partition's end.
      const admin = kafka.admin();
      await admin.connect();
      const ends = new Map<string, number>();
      for (const t of TOPIC_KEYS) {
        for (const p of await admin.fetchTopicOffsets(cfg.topics[t])) {
          ends.set(`${cfg.topics[t]}/${p.partition}`, Number(p.high));
        }
      }
      await admin.disconnect();
      const deadline = Date.now() + 300_000;
      for (;;) {
        const rs = await client.execute(
          "SELECT job, topic, kpart, next_offset FROM stream_checkpoints WHERE consumer_group = ?",
          [cfg.consumerGroup],
          { prepare: true },
        );
        const next = new Map<string, number>();
        for (const r of rs.rows) next.set(`${r.job}|${r.topic}/${r.kpart}`, Number(r.next_offset));
        const behind = [...ends].filter(([tp, high]) => {
          const cdc = tp.startsWith(`${cfg.topics.CDC}/`);
          const job = cdc ? "cdc_transformation" : "data_enrichment";
          return high > 0 && (next.get(`${job}|${tp}`) ?? 0) < high;
        });
        if (behind.length === 0) break;
        if (Date.now() > deadline) throw new Error(`not caught up: ${JSON.stringify(behind)}`);
        await sleep(1000);
      }
      proc!.kill("SIGTERM");
      const status = await proc!.status;
      await Promise.all(pumps);
      proc = undefined;
      assert(status.success, `the last processor exited with ${status.code} after SIGTERM`);

      // ---- the records as Kafka holds them
      const names = new Map(TOPIC_KEYS.map((t) => [cfg.topics[t], t]));
      const inputs = await readBack(kafka, names, `t_${id}_readback`);
      inputs.sort((a, b) =>
        a.topic.localeCompare(b.topic) || a.partition - b.partition ||
        a.offset - b.offset
      );
      const parseNow = Date.now();
      const valid = inputs.filter((r) =>
        parseEvent(r.topic, r.value, { now: parseNow, kafkaTimestamp: r.kafkaTs }).ok !== undefined
      );
      const validCdc = valid.filter((r) => r.topic === "CDC");
      const validUser = valid.filter((r) => r.topic !== "CDC");
      assert(validCdc.length > 250 && validUser.length > 10_000, "enough traffic");
      assert(valid.length < inputs.length, "malformed records were in the mix");

      // ---- reference of cdc_operations_rt: per partition, in offset order, the late rule
      const want = new Map<string, number[]>();
      const maxSeen = new Map<number, number>();
      const COL = { c: 0, u: 1, d: 2, r: 3, t: 4 } as const;
      let late = 0;
      for (const r of validCdc) {
        const ev = parseEvent("CDC", r.value, { now: parseNow, kafkaTimestamp: r.kafkaTs }).ok!;
        const max = maxSeen.get(r.partition) ?? -Infinity;
        const isLate = floorMinute(ev.eventTime) + 60_000 <= max - LATENESS;
        if (ev.eventTime > max) maxSeen.set(r.partition, ev.eventTime);
        const p = ev.data as CdcPayload | null;
        if (p === null) continue;
        if (isLate) {
          late++;
          continue;
        }
        const k = `${p.source.table}|${floorMinute(ev.eventTime)}|${r.partition}`;
        const counts = want.get(k) ?? [0, 0, 0, 0, 0];
        counts[COL[p.op]]++;
        want.set(k, counts);
      }
      const rs = await client.execute(
        "SELECT table_name, minute, kpart, inserts, updates, deletes, snapshots, truncates " +
          "FROM cdc_operations_rt",
      );
      const got = new Map<string, number[]>();
      for (const r of rs.rows) {
        got.set(
          `${r.table_name}|${(r.minute as Date).getTime()}|${r.kpart}`,
          ["inserts", "updates", "deletes", "snapshots", "truncates"].map((c) => Number(r[c])),
        );
      }
      const sorted = (m: Map<string, number[]>) => [...m].sort(([a], [b]) => a.localeCompare(b));
      assertEquals(sorted(got), sorted(want));

      // ---- cdc_transformed: each valid CDC record once
      const cdcRows = (await Promise.all(
        (await listOffsetFiles(`${cfg.outputsDir}/cdc_transformed`)).map(async (f) =>
          decodeRows(TRANSFORMED_COLUMNS, await Deno.readFile(f.path))
        ),
      )).flat();
      const cdcKeys = cdcRows.map((r) => `${r.partition}/${r.offset}`).sort();
      assertEquals(cdcKeys, validCdc.map((r) => `${r.partition}/${r.offset}`).sort());
      assertEquals(cdcRows.filter((r) => r.kind === "REJECTED").length, 0);

      // ---- enriched_events: each valid user-topic record once (read_committed, by header)
      const expected = validUser.map((r) => `${cfg.topics[r.topic]}/${r.partition}/${r.offset}`)
        .sort();
      await writeSentinels(kafka, enrichedTopic, P, `t_${id}`);
      const messages = await readEnriched(kafka, enrichedTopic, P, `t_${id}_enriched_check`);
      const all = await readEnriched(kafka, enrichedTopic, P, `t_${id}_enriched_all`, true);
      const unique = [...new Set(messages)].sort();
      console.log(
        `kills ${kills.length}, each ${kills.join(", ")} ms after the process first stored ` +
          `progress (${
            startups.join(", ")
          } ms after its start); CDC records ${validCdc.length} (late ${late}); enriched: read_committed ` +
          `${messages.length} (unique ${unique.length}, expected ${expected.length}), ` +
          `read_uncommitted ${all.length} (${
            all.length - messages.length
          } in aborted transactions)`,
      );
      assertEquals(messages.length - unique.length, 0, "no duplicates even before dedup");
      assertEquals(unique, expected);

      // ---- enriched Parquet: each once
      const parquet: string[] = [];
      for (const t of USER_TOPICS) {
        const root = `${cfg.outputsDir}/enriched_events/topic=${cfg.topics[t]}`;
        for (const f of await listOffsetFiles(root)) {
          for (const r of decodeRows(ENRICHED_COLUMNS, await Deno.readFile(f.path))) {
            parquet.push(`${r.topic}/${r.partition}/${r.offset}`);
          }
        }
      }
      assertEquals(parquet.sort(), expected);
    } finally {
      if (proc) {
        try {
          proc.kill("SIGKILL");
        } catch { /* exited */ }
        await proc.status;
        await Promise.all(pumps);
      }
      log.close();
      const errors = (await Deno.readTextFile(`${env.tmpDir}/processors.log`).catch(() => ""))
        .split("\n").filter((l) => l.includes('"level":"error"'));
      if (errors.length > 0) console.log(`processor errors:\n${errors.slice(0, 20).join("\n")}`);
      await client.shutdown().catch(() => {});
      await env.cleanup();
    }
  },
});
