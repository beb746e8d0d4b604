/**
 * Records the `cdc_transformation` job rejects (no key, a key contradicting the row, a key of the
 * wrong type) reach `topic_cdc_changes.dlq` through the runtime's job dead-letter hook, with the
 * same headers as the parser's dead letters plus `error.job`, are counted in
 * `processor_events_rejected_total`, and arrive exactly once per record in a normal run; after a
 * clean stop and a restart (checkpoint past them) none is sent again. Real Kafka and Cassandra,
 * `deno task process --jobs cdc_transformation` as a child process.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { dlqTopic } from "../shared/config.ts";
import { createKafka, createProducer } from "../shared/kafka.ts";
import { pgChange, userKey } from "../processors/jobs/cdc/_fixtures.ts";
import { decodeRows, listOffsetFiles } from "../processors/jobs/cdc/offset_files.ts";
import { TRANSFORMED_COLUMNS } from "../processors/jobs/cdc/transformed_rows.ts";
import { readDeadLetters } from "../processors/testing/dlq_read.ts";
import { startProcessor } from "../processors/testing/processor_child.ts";
import { until } from "../processors/testing/until.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";

/** Rows in `cdc_transformed` Parquet files (the job's checkpoint is past them once written). */
async function transformedRows(root: string): Promise<number> {
  let n = 0;
  for (const f of await listOffsetFiles(root).catch(() => [])) {
    n += decodeRows(TRANSFORMED_COLUMNS, await Deno.readFile(f.path)).length;
  }
  return n;
}

/** Value of a counter line with all the given labels, 0 when absent. */
function counter(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return 0;
}

Deno.test({
  name: "records the CDC job rejects reach the DLQ once each, with the reason headers",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureServers();
    const env = isolatedTestEnv({ env: { LOG_LEVEL: "warn" } });
    await env.setup();
    const cfg = env.cfg;
    const topic = cfg.topics.CDC;
    const kafka = createKafka(cfg, "cdc-dlq-test", { logLevel: "nothing" });
    const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
    const root = `${cfg.outputsDir}/cdc_transformed`;
    let proc: Awaited<ReturnType<typeof startProcessor>> | undefined;
    try {
      await producer.connect();
      const t = Date.now() - 60_000;
      const send = (key: string | null, value: string) =>
        producer.send({ topic, acks: -1, messages: [{ key, value, partition: 0 }] });
      // offset 0: valid; 1: no key, no row id; 2: key u2 but row u3; 3: key of the wrong type;
      // 4: not JSON (the parser's dead letter, for comparison); 5: valid
      await send(userKey("u1"), pgChange("c", t, { after: { id: "u1", plan: "free" }, lsn: 10 }));
      await send(null, pgChange("c", t + 1, { after: { email: "x@y.io" }, lsn: 11 }));
      await send(userKey("u2"), pgChange("u", t + 2, { after: { id: "u3" }, lsn: 12 }));
      await send("[1,2]", pgChange("c", t + 3, { after: { id: "u4" }, lsn: 13 }));
      await send(userKey("u5"), "{not json");
      await send(userKey("u6"), pgChange("c", t + 5, { after: { id: "u6" }, lsn: 15 }));

      proc = await startProcessor(env.env, {
        jobs: ["cdc_transformation"],
        logFile: `${env.tmpDir}/processors.log`,
      });
      // The file roll (10 s) moves the checkpoint past every record: nothing is re-sent later.
      await until(
        "the cdc_transformed rows",
        async () => (await transformedRows(root)) >= 5 ? true : undefined,
        { timeoutMs: 120_000 },
      );
      const letters = await readDeadLetters(kafka, [dlqTopic(topic)], { idleMs: 3_000 });
      const byOffset = letters.map((l) => [
        l.headers["source.offset"],
        l.headers["error.reason"],
        l.headers["error.field"],
        l.headers["error.job"],
      ]).sort();
      assertEquals(byOffset, [
        ["1", "missing_field", "key", "cdc_transformation"],
        ["2", "invalid_value", "key", "cdc_transformation"],
        ["3", "wrong_type", "key", "cdc_transformation"],
        ["4", "invalid_json", "", undefined],
      ]);
      for (const l of letters) {
        assertEquals([l.headers["source.topic"], l.headers["source.partition"]], [topic, "0"]);
        assert(l.headers["error.detail"].length > 0, "error.detail says why");
      }
      // Unchanged value and key.
      const noKey = letters.find((l) => l.headers["source.offset"] === "1")!;
      assertEquals(noKey.key, null);
      assertEquals(JSON.parse(noKey.value!).after, { email: "x@y.io" });
      assertEquals(letters.find((l) => l.headers["source.offset"] === "3")!.key, "[1,2]");

      const metrics = await proc.metrics();
      const rejected = (reason: string) =>
        counter(metrics, "processor_events_rejected_total", { topic, reason });
      assertEquals(
        ["missing_field", "invalid_value", "wrong_type", "invalid_json"].map(rejected),
        [1, 1, 1, 1],
      );

      // A clean stop and a restart replay nothing below the checkpoint: no dead letter again.
      proc.kill("SIGTERM");
      assertEquals((await proc.status).code, 0);
      proc = await startProcessor(env.env, {
        jobs: ["cdc_transformation"],
        logFile: `${env.tmpDir}/processors.log`,
      });
      await send(null, pgChange("d", t + 6, { before: { email: "z@y.io" }, lsn: 16 }));
      const after = await readDeadLetters(kafka, [dlqTopic(topic)], {
        expected: 5,
        timeoutMs: 120_000,
      });
      await new Promise((r) => setTimeout(r, 2_000));
      const offsets = after.map((l) => l.headers["source.offset"]).sort();
      assertEquals(offsets, ["1", "2", "3", "4", "6"]);
    } finally {
      proc?.kill("SIGTERM");
      await proc?.status;
      await producer.disconnect().catch(() => {});
      await env.cleanup();
    }
  },
});
