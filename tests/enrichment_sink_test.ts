/**
 * The transactional Kafka sink of `data_enrichment` against a real Kafka: committed batches are
 * visible to read_committed consumers with their source headers; opening the sink of a source
 * partition fences the previous writer and aborts its open transaction; the committed source
 * offset survives and is what a new owner starts from.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import type { KafkaMessage } from "kafkajs";
import { createKafka, createProducer } from "../shared/kafka.ts";
import { partitionFor } from "../shared/partitioner.ts";
import { HEADERS } from "../processors/jobs/enrichment/enriched.ts";
import { kafkaEnrichedSink, transactionalId } from "../processors/jobs/enrichment/kafka_sink.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";

function message(offset: number, user: string) {
  return {
    key: user,
    value: JSON.stringify({ offset, user_id: user }),
    headers: {
      [HEADERS.topic]: "video_topic",
      [HEADERS.partition]: "2",
      [HEADERS.offset]: String(offset),
      [HEADERS.kafkaTs]: "0",
      [HEADERS.eventId]: `e${offset}`,
    },
  };
}

/** Reads the whole topic with a read_committed consumer until `until` says it has enough. */
async function readAll(
  env: ReturnType<typeof isolatedTestEnv>,
  until: (msgs: KafkaMessage[]) => boolean,
): Promise<KafkaMessage[]> {
  const kafka = createKafka(env.cfg, "enrichment-sink-test-reader", { logLevel: "nothing" });
  const consumer = kafka.consumer({ groupId: `${env.id}-reader-${crypto.randomUUID()}` });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: env.enrichedTopic, fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: ({ message }) => {
        got.push(message);
        if (until(got)) done();
        return Promise.resolve();
      },
    });
    await finished;
  } finally {
    await consumer.disconnect();
  }
  return got;
}

Deno.test({
  name: "enriched batches commit atomically with their source offset; a new owner fences the old",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureServers();
    const env = isolatedTestEnv();
    await env.setup();
    const kafka = createKafka(env.cfg, "enrichment-sink-test", { logLevel: "nothing" });
    // The isolated source topic: it exists on a fresh broker (setup() created it).
    const source = env.cfg.topics.VIDEO;
    const options = { outputTopic: env.enrichedTopic, consumerGroup: env.cfg.consumerGroup };
    const sinkA = kafkaEnrichedSink(kafka, options);
    const sinkB = kafkaEnrichedSink(kafka, options);
    const zombie = createProducer(kafka, {
      transactionalId: transactionalId(env.cfg.consumerGroup, source, 2),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    try {
      const a = await sinkA.open(source, 2);
      assertEquals(a.committedNext, undefined);
      await a.commit([message(0, "u1"), message(1, "u2"), message(2, "u1")], 3);
      assertEquals(a.committedNext, 3);

      // A writer that dies mid-transaction: its messages must never become visible.
      await zombie.connect();
      const tx = await zombie.transaction();
      await tx.send({ topic: env.enrichedTopic, messages: [message(99, "ghost")] });

      // The next owner: fences both, aborts the open transaction, resumes at offset 3.
      const b = await sinkB.open(source, 2);
      assertEquals(b.committedNext, 3);
      await rejects(a.commit([message(3, "u1")], 4));
      await rejects(tx.commit());
      await b.commit([message(3, "u3"), message(4, "u1")], 5);
      // A sentinel behind the zombie's message in its output partition: reading up to it proves
      // the aborted message was passed over, not merely not reached yet.
      const n = env.cfg.topicPartitions;
      let sentinel = "s0";
      for (let i = 1; partitionFor(sentinel, n) !== partitionFor("ghost", n); i++) {
        sentinel = `s${i}`;
      }
      await b.commit([message(5, sentinel)], 6);

      const got = await readAll(
        env,
        (m) => m.length >= 6 && m.some((x) => x.key?.toString() === sentinel),
      );
      const offsets = got.map((m) => Number(m.headers![HEADERS.offset]!.toString()));
      assertEquals(offsets.sort((x, y) => x - y), [0, 1, 2, 3, 4, 5]);
      assert(got.every((m) => m.headers![HEADERS.topic]!.toString() === "video_topic"));
      const byKey = got.filter((m) => m.key!.toString() === "u1").length;
      assertEquals(byKey, 3);
      // A third owner sees the committed offset of the last commit.
      const c = await sinkA.open(source, 2);
      assertEquals(c.committedNext, 6);
      // Another source partition has its own progress.
      const other = await sinkA.open(source, 3);
      assertEquals(other.committedNext, undefined);
      await Promise.all([c.close(), other.close(), b.close(), a.close()]);
    } finally {
      await zombie.disconnect().catch(() => {});
      await sinkA.close();
      await sinkB.close();
      await env.cleanup();
    }
  },
});
