/**
 * `deno task lag` against the real local Kafka: committed offsets against log ends per partition,
 * a partition without a commit, the CLI's JSON and table output, and the same figures as Kafka's
 * own `kafka.admin.ConsumerGroupCommand --describe` run from the local Kafka's jars.
 */
import assert from "node:assert/strict";
import { ensureJars, KAFKA_TOOLS_DIST } from "../infra/local/jars.ts";
import { ensureLocalServers, java17 } from "../infra/local/mod.ts";
import { createKafka } from "../shared/kafka.ts";
import { createLogger } from "../shared/log.ts";
import { consumerLag, formatLag } from "../ops/lag_core.ts";
import { isolatedTestEnv } from "./_servers.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("lag per topic and partition: committed vs log end, CLI output, and Kafka's own tool agree", async () => {
  if (Deno.env.get("EDU_SERVERS") !== "external") {
    await ensureLocalServers({
      cassandra: false,
      allowForeign: true,
      log: createLogger({ name: "test-servers", level: "warn" }),
    });
  }
  const t = isolatedTestEnv();
  await Deno.remove(t.tmpDir, { recursive: true });
  const cfg = t.cfg;
  const topic = cfg.topics.VIDEO;
  const other = cfg.topics.AUTH;
  const group = cfg.consumerGroup;
  const kafka = createKafka(cfg, "ops-lag-test");
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 3 }, { topic: other, numPartitions: 1 }],
    });
    await producer.connect();
    const put = (partition: number, n: number) =>
      producer.send({
        topic,
        messages: Array.from({ length: n }, (_, i) => ({ partition, value: `m${i}` })),
      });
    await put(0, 5);
    await put(1, 3);
    await put(2, 2);
    await producer.send({ topic: other, messages: [{ value: "a" }, { value: "b" }] });
    // The group consumed 2 of partition 0, all of partition 1, nothing of partition 2, all of AUTH.
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [{ partition: 0, offset: "2" }, { partition: 1, offset: "3" }],
    });
    await admin.setOffsets({
      groupId: group,
      topic: other,
      partitions: [{ partition: 0, offset: "2" }],
    });

    const rows = await consumerLag(admin, group, [topic, other, `${topic}_missing`]);
    assert.deepEqual(
      rows.map((r) => [r.topic, r.partition, r.committed, r.logEnd, r.lag]),
      [
        [other, 0, 2, 2, 0],
        [topic, 0, 2, 5, 3],
        [topic, 1, 3, 3, 0],
        [topic, 2, null, 2, 2],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const table = formatLag(group, rows);
    assert.match(table, /total lag: 5$/);
    assert.match(table, new RegExp(`${topic}\\s+2\\s+-\\s+2\\s+2`));

    // The CLI, on the configured input topics (only these two exist in this test's names).
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}/ops/lag.ts`, "--json"],
      env: t.env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), rows);

    // Kafka's own view of the same group (the seed's kafka-consumer-groups.sh --describe).
    const tool = await new Deno.Command(java17(), {
      args: [
        "-cp",
        (await ensureJars(KAFKA_TOOLS_DIST)).join(":"),
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "--bootstrap-server",
        cfg.kafkaBrokers.join(","),
        "--describe",
        "--group",
        group,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(tool.stdout);
    assert.equal(tool.code, 0, new TextDecoder().decode(tool.stderr));
    const theirs = text.split("\n").map((l) => l.trim().split(/\s+/))
      .filter((c) => c[1] === topic || c[1] === other)
      .map((c) => [c[1], Number(c[2]), c[3] === "-" ? null : Number(c[3]), Number(c[4])])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]));
    const ours = rows.filter((r) => r.committed !== null)
      .map((r) => [r.topic, r.partition, r.committed, r.logEnd]);
    assert.deepEqual(theirs, ours, text);
    const lagCol = text.split("\n").map((l) => l.trim().split(/\s+/))
      .filter((c) => c[1] === topic && c[2] === "0").map((c) => Number(c[5]));
    assert.deepEqual(lagCol, [3]);
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.deleteGroups([group]).catch(() => {});
    await admin.deleteTopics({ topics: [topic, other] }).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
});
