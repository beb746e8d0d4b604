/**
 * `deno task dlq` against the real local Kafka, on isolated topics: dead letters with the headers
 * of docs/DESIGN.md are listed, shown and replayed; the source topic receives exactly the valid
 * ones, once, however often replay runs and whatever it was filtered by.
 */
import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import { ensureLocalServers } from "../infra/local/mod.ts";
import { createKafka } from "../shared/kafka.ts";
import { createLogger } from "../shared/log.ts";
import { partitionFor } from "../shared/partitioner.ts";
import { dlqList, dlqReplay, dlqShow, resolveSourceTopic } from "../ops/dlq_core.ts";
import { readToEnd } from "../ops/read_to_end.ts";
import { isolatedTestEnv } from "./_servers.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

async function kafkaUp(): Promise<void> {
  if (Deno.env.get("EDU_SERVERS") === "external") return;
  await ensureLocalServers({
    cassandra: false,
    allowForeign: true,
    log: createLogger({ name: "test-servers", level: "warn" }),
  });
}

const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const video = (id: string, extra: Record<string, unknown> = {}) => ({
  event_id: id,
  user_id: `u-${id}`,
  timestamp: iso(now - 60_000),
  video_id: "v1",
  course_id: "c1",
  action: "heartbeat",
  watched_sec: 12,
  ...extra,
});

/** A dead letter as the processors write it: the original value and the DESIGN.md headers. */
interface Letter {
  key: string;
  value: string;
  reason: string;
  field: string;
  partition: number;
}

const FIXABLE_A: Letter = {
  key: "u-a",
  value: JSON.stringify(video("a")),
  reason: "missing_field",
  field: "watched_sec",
  partition: 0,
};
const FIXABLE_B: Letter = {
  key: "u-b",
  value: JSON.stringify(video("b", { action: "play", watched_sec: undefined })),
  reason: "missing_field",
  field: "watched_sec",
  partition: 1,
};
const FIXABLE_C: Letter = {
  key: "u-c",
  value: JSON.stringify(video("c", { position_sec: 4 })),
  reason: "wrong_type",
  field: "position_sec",
  partition: 1,
};
const INVALID: Letter[] = [
  { key: "u-d", value: "{not json", reason: "invalid_json", field: "", partition: 0 },
  { key: "u-e", value: "[1,2]", reason: "not_object", field: "", partition: 1 },
  {
    key: "u-f",
    value: JSON.stringify(video("f", { video_id: undefined })),
    reason: "missing_field",
    field: "video_id",
    partition: 0,
  },
  {
    key: "u-g",
    value: JSON.stringify(video("g", { timestamp: iso(now + 3_600_000) })),
    reason: "future_timestamp",
    field: "timestamp",
    partition: 1,
  },
];

Deno.test("dlq list, show and replay on a real broker: valid ones re-published exactly once", async () => {
  await kafkaUp();
  const t = isolatedTestEnv();
  const cfg = t.cfg;
  const source = resolveSourceTopic(cfg.topics, "VIDEO");
  const dlq = `${source.name}.dlq`;
  const ledgerTopic = `t_${t.id}_dlq-replay`;
  const kafka = createKafka(cfg, "ops-dlq-test");
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: source.name, numPartitions: 3 }, { topic: dlq, numPartitions: 2 }],
    });
    await producer.connect();
    const send = (letters: Letter[]) =>
      producer.send({
        topic: dlq,
        messages: letters.map((l, i) => ({
          key: l.key,
          value: l.value,
          partition: l.partition,
          headers: {
            "error.reason": l.reason,
            "error.field": l.field,
            "source.topic": source.name,
            "source.partition": String(partitionFor(l.key, 3)),
            "source.offset": String(100 + i),
          },
        })),
      });
    await send([FIXABLE_A, FIXABLE_B, ...INVALID]);

    // list: counts by reason and by reason/field, straight from the headers.
    const counts = await dlqList(kafka, source);
    assert.equal(counts.total, 6);
    assert.deepEqual(counts.byReason, {
      missing_field: 3,
      invalid_json: 1,
      not_object: 1,
      future_timestamp: 1,
    });
    assert.deepEqual(counts.byReasonField, {
      "missing_field/watched_sec": 2,
      "missing_field/video_id": 1,
      "invalid_json/": 1,
      "not_object/": 1,
      "future_timestamp/timestamp": 1,
    });
    assert.equal((await dlqList(kafka, source, { reason: "invalid_json" })).total, 1);
    assert.equal((await dlqList(kafka, source, { since: now + 86_400_000 })).total, 0);

    // show: messages with headers, in partition/offset order, filtered and limited.
    const shown = await dlqShow(kafka, source, { reason: "missing_field" });
    assert.deepEqual(shown.map((m) => m.key), ["u-a", "u-f", "u-b"]);
    assert.equal(shown[0].headers["error.field"], "watched_sec");
    assert.equal(shown[0].headers["source.topic"], source.name);
    assert.equal(shown[0].value, FIXABLE_A.value);
    assert.deepEqual(
      (await dlqShow(kafka, source, { limit: 2 })).map((m) => [m.partition, m.offset]),
      [
        [0, 0],
        [0, 1],
      ],
    );

    // replay, only missing_field: A and B are valid now, F is still invalid.
    const r1 = await dlqReplay(kafka, source, { reason: "missing_field", ledgerTopic });
    assert.deepEqual(
      [r1.selected, r1.replayed, r1.alreadyReplayed, r1.stillInvalid],
      [3, 2, 0, 1],
    );
    assert.deepEqual(r1.stillInvalidByReasonField, { "missing_field/video_id": 1 });

    // a new fixable dead letter arrives; replay everything: only C is new and valid.
    await send([FIXABLE_C]);
    const dry = await dlqReplay(kafka, source, { ledgerTopic, dryRun: true });
    assert.deepEqual([dry.valid, dry.replayed], [1, 0]);
    const r2 = await dlqReplay(kafka, source, { ledgerTopic });
    assert.deepEqual(
      [r2.selected, r2.replayed, r2.alreadyReplayed, r2.stillInvalid],
      [5, 1, 2, 4],
    );
    assert.deepEqual(r2.stillInvalidByReason, {
      invalid_json: 1,
      not_object: 1,
      missing_field: 1,
      future_timestamp: 1,
    });

    // a third replay publishes nothing.
    const r3 = await dlqReplay(kafka, source, { ledgerTopic });
    assert.deepEqual([r3.replayed, r3.alreadyReplayed, r3.stillInvalid], [0, 3, 4]);

    // the source topic holds exactly A, B and C, once, same key and value, keyed partitions.
    const out = await readToEnd(kafka, source.name);
    const got = out.map((m) => ({
      key: new TextDecoder().decode(m.key!),
      value: new TextDecoder().decode(m.value!),
      partition: m.partition,
    })).sort((a, b) => a.key.localeCompare(b.key));
    assert.deepEqual(
      got,
      [FIXABLE_A, FIXABLE_B, FIXABLE_C].map((l) => ({
        key: l.key,
        value: l.value,
        partition: partitionFor(l.key, 3),
      })),
    );
    for (const m of out) {
      assert.match(m.headers["dlq.replayed.from"], new RegExp(`^${dlq}/\\d/\\d$`));
    }

    // the CLI: list as JSON, show as JSON lines, replay (nothing left), bad arguments exit 2.
    const cli = async (...args: string[]) => {
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}/ops/dlq.ts`, ...args],
        env: t.env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: r.code,
        out: new TextDecoder().decode(r.stdout),
        err: new TextDecoder().decode(r.stderr),
      };
    };
    const list = await cli("list", "--topic", source.name, "--json");
    assert.equal(list.code, 0, list.err);
    assert.equal(JSON.parse(list.out).total, 7);
    const show = await cli("show", "--topic", dlq, "--reason", "invalid_json");
    assert.equal(show.code, 0, show.err);
    const lines = show.out.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.value, l.headers["error.reason"]]), [
      ["{not json", "invalid_json"],
    ]);
    const replay = await cli("replay", "--topic", "VIDEO", "--ledger", ledgerTopic, "--json");
    assert.equal(replay.code, 0, replay.err);
    assert.deepEqual(
      [JSON.parse(replay.out).replayed, JSON.parse(replay.out).alreadyReplayed],
      [0, 3],
    );
    const bad = await cli("replay", "--topic", "nope");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /Unknown topic "nope"/);
    assert.equal((await cli("list", "--topic", source.name, "--limit", "x")).code, 2);
    assert.equal((await readToEnd(kafka, source.name)).length, 3, "still exactly three");
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.deleteTopics({ topics: [source.name, dlq, ledgerTopic] }).catch(() => {});
    await admin.disconnect().catch(() => {});
    await Deno.remove(t.tmpDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("resolveSourceTopic accepts the topic, its DLQ or its key, and names the known ones", () => {
  const t = isolatedTestEnv({ id: "x1" });
  Deno.removeSync(t.tmpDir, { recursive: true });
  const topics = t.cfg.topics;
  assert.deepEqual(resolveSourceTopic(topics, "t_x1_video_topic"), {
    key: "VIDEO",
    name: "t_x1_video_topic",
  });
  assert.equal(resolveSourceTopic(topics, "t_x1_video_topic.dlq").key, "VIDEO");
  assert.equal(resolveSourceTopic(topics, "cdc").name, "t_x1_topic_cdc_changes");
  assert.throws(() => resolveSourceTopic(topics, "video_topic"), /Unknown topic.*t_x1_auth_topic/);
});
