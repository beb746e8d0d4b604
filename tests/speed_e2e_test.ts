/**
 * End to end through the real servers: generated traffic (malformed records, duplicates, late and
 * out-of-order arrivals included) → Kafka → `deno task process` → every realtime row in Cassandra
 * equals the reference calculator's, and the dead-letter topics hold exactly the reference's
 * invalid records, unchanged, with the right headers. SIGTERM then exits 0.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { dlqTopic, TOPIC_KEYS } from "../shared/config.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { topicKeyByName } from "../shared/events.ts";
import { createKafka } from "../shared/kafka.ts";
import { generate } from "../generator/generate.ts";
import { produceRecords } from "../generator/produce.ts";
import { Reference } from "../generator/reference.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";
import { readTable } from "../processors/testing/cassandra_rows.ts";
import { readDeadLetters } from "../processors/testing/dlq_read.ts";
import { startProcessor } from "../processors/testing/processor_child.ts";
import { endOffsets, waitForCheckpoints } from "../processors/testing/progress.ts";
import { compareWithReference } from "../processors/testing/reference_check.ts";
import { VIEW_JOBS } from "../processors/testing/jobs.ts";

const EVENTS = Number(Deno.env.get("SPEED_E2E_EVENTS") ?? 30_000);

Deno.test({
  name: "speed layer: realtime rows equal the reference and dead letters are exact",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureServers();
    const env = isolatedTestEnv();
    await env.setup();
    const cfg = env.cfg;
    const kafka = createKafka(cfg, "speed-e2e-test");
    const client = createCassandraClient(cfg);
    try {
      const now = Date.now();
      const records = [...generate({
        seed: 7,
        users: 300,
        courses: 12,
        startMs: now - 6 * 3_600_000,
        endMs: now,
        now,
        totalEvents: EVENTS,
        partitions: cfg.topicPartitions,
        malformedShare: 0.02,
        duplicateShare: 0.02,
        outOfOrderShare: 0.04,
        lateShare: 0.01,
      })];
      const { refused } = await produceRecords(cfg, records, { kafka });
      const refusedSet = new Set(refused);
      const produced = records.filter((r) => !refusedSet.has(r));
      const ref = new Reference(produced, { now, allowedLatenessMs: cfg.allowedLatenessMs });

      const proc = await startProcessor(env.env, {
        logFile: Deno.env.get("SPEED_LOG_FILE"),
        jobs: [...VIEW_JOBS.map((j) => j.name), "archiver"],
      });
      try {
        const inputs = TOPIC_KEYS.map((k) => cfg.topics[k]);
        const ends = await endOffsets(kafka, inputs);
        await waitForCheckpoints(
          client,
          cfg.consumerGroup,
          VIEW_JOBS.map((j) => ({
            name: j.name,
            topics: j.topics.map((t) => cfg.topics[t]),
          })),
          ends,
          { timeoutMs: 180_000 },
        );

        const { diffs, rows } = await compareWithReference(ref, (t) => readTable(client, t), {
          topicKeys: topicKeyByName(cfg.topics),
        });
        assertEquals(diffs.slice(0, 20), []);
        assertEquals(rows > 5_000, true, `only ${rows} rows compared`);

        const expected = ref.sets.rejected;
        const dead = await readDeadLetters(kafka, inputs.map(dlqTopic), {
          expected: expected.length,
        });
        const keyOf = (t: string, p: number, o: number) => `${t}/${p}/${o}`;
        const got = new Map(dead.map((d) => [
          keyOf(
            d.headers["source.topic"],
            Number(d.headers["source.partition"]),
            Number(d.headers["source.offset"]),
          ),
          d,
        ]));
        assertEquals(dead.length, expected.length, "dead letters (duplicates or losses)");
        for (const r of expected) {
          const d = got.get(keyOf(cfg.topics[r.topic], r.partition, r.offset));
          assertEquals(
            d !== undefined,
            true,
            `missing dead letter ${r.topic}/${r.partition}/${r.offset}`,
          );
          assertEquals(
            [
              d!.topic,
              d!.value,
              d!.key,
              d!.timestamp,
              d!.headers["error.reason"],
              d!.headers["error.field"],
            ],
            [dlqTopic(cfg.topics[r.topic]), r.value, r.key, r.kafkaTs, r.reason, r.field],
          );
        }

        const health = await proc.health();
        assertEquals(health.status, "ok");
        const metrics = await proc.metrics();
        assertEquals(metrics.includes("processor_event_to_view_seconds_count"), true);
      } finally {
        proc.kill("SIGTERM");
        const status = await proc.status;
        assertEquals(
          status.code,
          0,
          `exit code after SIGTERM; logs:\n${proc.logs.slice(-20).join("\n")}`,
        );
      }
    } finally {
      await client.shutdown();
      await env.cleanup();
    }
  },
});
