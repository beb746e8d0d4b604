/**
 * Produces 10k generated records to a real Kafka (isolated topics) and consumes them back: every
 * record arrives once, in its partition, in the order produced, with its key, value and timestamp.
 */
import assert from "node:assert/strict";
import { TOPIC_KEYS, type TopicKey } from "../shared/config.ts";
import { createKafka } from "../shared/kafka.ts";
import { generate, type GeneratedRecord } from "../generator/generate.ts";
import { produceRecords } from "../generator/produce.ts";
import { Reference } from "../generator/reference.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";

Deno.test({
  name: "generated records arrive in their partitions in production order",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureServers();
    const env = isolatedTestEnv();
    await env.setup();
    const kafka = createKafka(env.cfg, "generator-produce-test", { logLevel: "nothing" });
    const consumer = kafka.consumer({
      groupId: `${env.cfg.consumerGroup}-check`,
      maxBytesPerPartition: 4 << 20,
    });
    try {
      const end = Date.now() - 60_000;
      const records = [
        ...generate({
          seed: 77,
          users: 200,
          startMs: end - 6 * 3_600_000,
          endMs: end,
          totalEvents: 10_000,
          partitions: env.cfg.topicPartitions,
          malformedShare: 0.03,
          duplicateShare: 0.02,
          lateShare: 0.01,
        }),
      ];
      assert.equal(records.length, 10_000);
      const progress: number[] = [];
      const result = await produceRecords(env.cfg, records, {
        batchSize: 700,
        onProgress: (p) => progress.push(p.sent),
      });
      assert.equal(result.sent + result.refused.length, records.length);
      assert.ok(progress.length >= 10 && progress.at(-1) === result.sent);
      for (const r of result.refused) assert.equal(r.reason, "too_large");
      const refused = new Set(result.refused);
      const produced = records.filter((r) => !refused.has(r));

      const expected = new Map<string, GeneratedRecord[]>();
      for (const r of produced) {
        const k = `${r.topic}/${r.partition}`;
        if (!expected.has(k)) expected.set(k, []);
        expected.get(k)!.push(r);
      }
      const byName = new Map(TOPIC_KEYS.map((k) => [env.cfg.topics[k], k]));
      const got = new Map<
        string,
        Array<{ offset: number; key: string | null; value: string | null; ts: number }>
      >();
      let received = 0;
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      await consumer.connect();
      await consumer.subscribe({
        topics: TOPIC_KEYS.map((k) => env.cfg.topics[k]),
        fromBeginning: true,
      });
      await consumer.run({
        eachBatch: ({ batch }) => {
          const k = `${byName.get(batch.topic)}/${batch.partition}`;
          if (!got.has(k)) got.set(k, []);
          for (const m of batch.messages) {
            got.get(k)!.push({
              offset: Number(m.offset),
              key: m.key?.toString() ?? null,
              value: m.value === null ? null : m.value.toString(),
              ts: Number(m.timestamp),
            });
            received++;
          }
          if (received >= produced.length) done();
          return Promise.resolve();
        },
      });
      const timeout = new Promise<void>((_, reject) =>
        setTimeout(
          () => reject(new Error(`only ${received}/${produced.length} records came back`)),
          120_000,
        )
      );
      await Promise.race([all, timeout]);

      assert.equal(received, produced.length);
      for (const [k, want] of expected) {
        const have = got.get(k) ?? [];
        assert.equal(have.length, want.length, `${k}: count`);
        for (let i = 0; i < want.length; i++) {
          assert.equal(have[i].offset, i, `${k}: offsets are dense from 0`);
          assert.equal(have[i].key, want[i].key, `${k}@${i}: key`);
          assert.equal(have[i].value, want[i].value, `${k}@${i}: value`);
          assert.equal(have[i].ts, want[i].kafkaTs, `${k}@${i}: timestamp`);
        }
      }
      for (const k of got.keys()) assert.ok(expected.has(k), `unexpected records in ${k}`);
      for (const topic of TOPIC_KEYS) {
        const n = produced.filter((r) => r.topic === topic).length;
        assert.equal(result.counts[topic as TopicKey], n);
      }
      // The reference computed from the consumed coordinates equals the one from production order.
      const consumed = [...got].flatMap(([k, list]) => {
        const [topic, partition] = k.split("/");
        return list.map((m) => ({
          topic: topic as TopicKey,
          partition: Number(partition),
          offset: m.offset,
          key: m.key,
          value: m.value,
          kafkaTs: m.ts,
        }));
      });
      const now = Date.now();
      const a = new Reference(produced, { now });
      const b = new Reference(consumed, { now });
      assert.deepEqual(
        b.realtimeRows("realtime_user_activity"),
        a.realtimeRows("realtime_user_activity"),
      );
      assert.equal(b.sets.rejected.length, a.sets.rejected.length);
      assert.ok(a.sets.late.length > 0 && a.sets.batch.length > 9_000 * 0.9);
    } finally {
      await consumer.disconnect().catch(() => {});
      await env.cleanup();
    }
  },
});
