/**
 * The archiver under SIGKILL: 200k events flow through real Kafka while the archiver process is
 * killed at random moments and restarted; at the end the master dataset holds every valid event
 * exactly once by (topic, partition, offset).
 *
 * Twice: driven by a small kafkajs loop of this file (run with `--child`: one PartitionTask per
 * (topic, partition), checkpoints in a JSON file per partition, random roll and fetch sizes per
 * process so replays cut files elsewhere), and as `deno task process --jobs archiver` (the
 * speed-layer runtime, checkpoints in Cassandra, consumer group rebalances).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Consumer } from "kafkajs";
import { archiverJob } from "../processors/jobs/archiver/mod.ts";
import type { Checkpoint, PartitionTask } from "../processors/runtime/task.ts";
import { listArchiveFiles, writeFileAtomic } from "../shared/archive.ts";
import { resolveConfig, TOPIC_KEYS, type TopicKey } from "../shared/config.ts";
import { parseEvent, topicKeyByName } from "../shared/events.ts";
import { createKafka, createProducer } from "../shared/kafka.ts";
import { partitionFor } from "../shared/partitioner.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";
import { ensureTopics } from "../infra/topics.ts";
import { type ProcessorChild, startProcessor } from "../processors/testing/processor_child.ts";
import { Scenario, sleep } from "../processors/testing/scenario.ts";
import { endOffsets, waitForCheckpoints } from "../processors/testing/progress.ts";

const TOPICS: TopicKey[] = ["AUTH", "APP_EVENTS", "VIDEO"];
const PARTITIONS = 3;
/** Rounds of 1000 events per topic: 201k events. */
const ROUNDS = 67;
/** Kills while the events flow: production is paced so that they all land before it ends. */
const KILLS = 8;
/** How long a waiting step may take before the test fails with the child's log. */
const STEP_TIMEOUT_MS = 180_000;

// ---------------------------------------------------------------- child: the archiver process

async function child(): Promise<void> {
  const cfg = resolveConfig(Deno.env.toObject());
  const ckDir = Deno.env.get("ARCHIVER_CHECKPOINTS")!;
  await Deno.mkdir(ckDir, { recursive: true });
  // Roll sizes differ from one process to the next (as after a restart with other timing), so a
  // replay cuts files at other offsets than the killed process did.
  const job = archiverJob(cfg, {
    roll: { maxEvents: 500 + Math.floor(Math.random() * 4000), maxAgeMs: 400 },
  });
  const byName = topicKeyByName(cfg.topics);
  const tasks = new Map<
    string,
    { task: PartitionTask; chain: Promise<unknown>; position: number }
  >();
  const ckPath = (t: TopicKey, p: number) => `${ckDir}/${t}-${p}.json`;
  const readCk = async (t: TopicKey, p: number): Promise<Checkpoint | undefined> => {
    try {
      return JSON.parse(await Deno.readTextFile(ckPath(t, p)));
    } catch {
      return undefined;
    }
  };
  const flush = (t: TopicKey, p: number) => {
    const s = tasks.get(`${t}:${p}`)!;
    s.chain = s.chain.then(async () => {
      if (s.task.pending() === 0) return;
      const cp = await s.task.flush(s.position);
      // A checkpoint store takes time (Cassandra in the real runtime): kills land between the
      // files and their checkpoint, the window the takeover cleanup exists for.
      await new Promise((r) => setTimeout(r, Math.random() * 150));
      await writeFileAtomic(ckPath(t, p), new TextEncoder().encode(JSON.stringify(cp)));
    });
    return s.chain;
  };
  // Tells the parent that records flow through this process, so its kill lands mid-work.
  let announced = false;
  const announce = async () => {
    if (announced) return;
    announced = true;
    await Deno.stdout.write(new TextEncoder().encode("archiving\n"));
  };
  const resumes = new Map<string, Checkpoint | undefined>();
  for (const t of TOPICS) {
    for (let p = 0; p < PARTITIONS; p++) {
      const resume = await readCk(t, p);
      resumes.set(`${t}:${p}`, resume);
      const task = await job.createTask(t, p, resume, {
        topicName: cfg.topics[t],
        gate: { replayPoint: () => undefined, maxEventTime: -Infinity, watermark: -Infinity },
      });
      tasks.set(`${t}:${p}`, { task, chain: Promise.resolve(), position: resume?.nextOffset ?? 0 });
    }
  }
  const kafka = createKafka(cfg, "archiver-kill-test");
  const consumer: Consumer = kafka.consumer({
    groupId: `${cfg.consumerGroup}-${Date.now()}-${Deno.pid}`,
    // Fetch sizes differ per process too, so replayed batches (and rolls) are cut elsewhere.
    maxBytesPerPartition: 16_384 + Math.floor(Math.random() * 262_144),
  });
  await consumer.connect();
  await consumer.subscribe({ topics: TOPICS.map((t) => cfg.topics[t]), fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const t = byName.get(batch.topic)!;
      const s = tasks.get(`${t}:${batch.partition}`)!;
      const from = resumes.get(`${t}:${batch.partition}`)?.replayOffset ?? 0;
      await announce();
      for (const m of batch.messages) {
        const offset = Number(m.offset);
        if (offset < from || offset < s.position) continue;
        const raw = m.value ? new TextDecoder().decode(m.value) : null;
        const r = parseEvent(t, raw, { kafkaTimestamp: Number(m.timestamp) });
        if (r.ok) {
          s.task.onEvent(
            r.ok,
            {
              topic: t,
              partition: batch.partition,
              offset,
              kafkaTs: Number(m.timestamp),
              raw,
              key: m.key ? new TextDecoder().decode(m.key) : null,
            },
            false,
            { duplicate: false, late: false, maxEventTimeBefore: -1, watermark: -1 },
          );
        }
        s.position = offset + 1;
      }
      await flush(t, batch.partition);
    },
  });
  for (const t of TOPICS) {
    for (let p = 0; p < PARTITIONS; p++) {
      consumer.seek({
        topic: cfg.topics[t],
        partition: p,
        offset: String(resumes.get(`${t}:${p}`)?.replayOffset ?? 0),
      });
    }
  }
  // Age-based rolls of idle partitions.
  setInterval(() => {
    for (const t of TOPICS) for (let p = 0; p < PARTITIONS; p++) flush(t, p);
  }, 100);
  await new Promise(() => {});
}

if (import.meta.main && Deno.args.includes("--child")) await child();

// ---------------------------------------------------------------- parent: the test

function eventOf(t: TopicKey, i: number, base: number): { key: string; value: string } {
  const user = `user-${i % 997}`;
  const common = {
    event_id: `ev-${t}-${i}`,
    user_id: user,
    timestamp: base + (i * 97) % 14_400_000,
  };
  const body = t === "AUTH"
    ? { ...common, action: "login", device: "web" }
    : t === "APP_EVENTS"
    ? { ...common, event_type: "click", app_type: "web", session_id: `s-${i % 50}` }
    : { ...common, video_id: `v-${i % 30}`, course_id: "c-1", action: "heartbeat", watched_sec: 5 };
  return { key: user, value: JSON.stringify(body) };
}

Deno.test({
  name: "archiver killed at random moments archives every valid event exactly once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureServers();
    const env = isolatedTestEnv({ env: { TOPIC_PARTITIONS: String(PARTITIONS) } });
    const ckDir = `${env.tmpDir}/checkpoints`;
    try {
      await ensureTopics(env.cfg);
      const kafka = createKafka(env.cfg, "archiver-kill-test-producer");
      const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const base = Date.UTC(2026, 0, 10, 3, 30);
      const childLog = `${env.tmpDir}/children.log`;
      let kills = 0;
      let producing = true;
      // Production waits for the kills: round r is sent once floor(r·KILLS/ROUNDS) processes were
      // killed, so every kill lands while records flow, however fast this machine is.
      const produce = (async () => {
        try {
          for (let round = 0; round < ROUNDS; round++) {
            const deadline = Date.now() + STEP_TIMEOUT_MS;
            while (kills < Math.floor((round * KILLS) / ROUNDS)) {
              if (Date.now() > deadline) throw new Error(`round ${round}: no kill in time`);
              await sleep(25);
            }
            await producer.sendBatch({
              acks: -1,
              topicMessages: TOPICS.map((t) => ({
                topic: env.cfg.topics[t],
                messages: Array.from({ length: 1000 }, (_, j) => {
                  const m = eventOf(t, round * 1000 + j, base);
                  return { ...m, partition: partitionFor(m.key, PARTITIONS) };
                }),
              })),
            });
          }
        } finally {
          producing = false;
        }
      })();
      produce.catch(() => {}); // awaited below; a failure there fails the test
      const spawn = async () => {
        const log = await Deno.open(childLog, { create: true, append: true });
        const proc = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--no-check", new URL(import.meta.url).pathname, "--child"],
          env: { ...env.env, ARCHIVER_CHECKPOINTS: ckDir, TOPIC_PARTITIONS: String(PARTITIONS) },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        proc.stderr.pipeTo(log.writable).catch(() => {});
        return proc;
      };
      const failWithLog = async (msg: string): Promise<never> => {
        const text = await Deno.readTextFile(childLog).catch(() => "");
        throw new Error(
          `${msg}\nlast lines of the archiver processes:\n${
            text.split("\n").slice(-30).join("\n")
          }`,
        );
      };
      // Resolves once the process reports records flowing; false when it exited first.
      const untilArchiving = async (proc: Deno.ChildProcess): Promise<boolean> => {
        const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let seen = "";
        while (!seen.includes("archiving")) {
          const { value, done } = await reader.read();
          if (done) return false;
          seen += value;
        }
        reader.releaseLock();
        return true;
      };
      while (producing) {
        const proc = await spawn();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const started = await Promise.race([
          untilArchiving(proc),
          new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), STEP_TIMEOUT_MS)),
        ]);
        clearTimeout(timer);
        if (started !== true) {
          proc.kill("SIGKILL");
          await proc.status;
          if (!producing) break; // production ended while it started: nothing left to interrupt
          await failWithLog(
            started === false ? "an archiver process exited on its own" : "no records reached " +
              `an archiver process within ${STEP_TIMEOUT_MS / 1000} s`,
          );
        }
        await sleep(Math.random() * 1500);
        proc.kill("SIGKILL");
        await proc.status;
        proc.stdout.cancel().catch(() => {});
        kills++;
      }
      await produce;
      await producer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      const ends = new Map<string, number>();
      for (const t of TOPICS) {
        for (const o of await admin.fetchTopicOffsets(env.cfg.topics[t])) {
          ends.set(`${t}-${o.partition}`, Number(o.high));
        }
      }
      await admin.disconnect();
      const produced = [...ends.values()].reduce((a, b) => a + b, 0);
      assertEquals(produced, ROUNDS * 1000 * TOPICS.length);
      // Final run: until every partition's checkpoint reached the end.
      assert(kills >= KILLS - 1, `only ${kills} kills while the events flowed`);
      const last = await spawn();
      last.stdout.cancel().catch(() => {});
      try {
        const deadline = Date.now() + STEP_TIMEOUT_MS;
        for (;;) {
          if (Date.now() > deadline) {
            await failWithLog("the final archiver did not reach the end of every partition");
          }
          let done = true;
          for (const [k, end] of ends) {
            try {
              const cp = JSON.parse(await Deno.readTextFile(`${ckDir}/${k}.json`)) as Checkpoint;
              if (cp.nextOffset < end) done = false;
            } catch {
              done = false;
            }
          }
          if (done) break;
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        last.kill("SIGKILL");
        await last.status;
      }
      const files = await listArchiveFiles(env.cfg.dataDir);
      assert(files.length > 0);
      const db = await DuckDBInstance.create(":memory:");
      const conn = await db.connect();
      const list = files.map((f) => `'${f.path}'`).join(",");
      const dup = await conn.runAndReadAll(
        `SELECT count(*) FROM (SELECT topic, "partition", "offset" FROM read_parquet([${list}])
         GROUP BY ALL HAVING count(*) > 1)`,
      );
      assertEquals(Number(dup.getRows()[0][0]), 0);
      const per = await conn.runAndReadAll(
        `SELECT topic, "partition", count(*), min("offset"), max("offset")
         FROM read_parquet([${list}]) GROUP BY ALL ORDER BY ALL`,
      );
      const byName = topicKeyByName(env.cfg.topics);
      const got = new Map<string, [number, number, number]>();
      for (const [topic, p, n, lo, hi] of per.getRows()) {
        got.set(`${byName.get(String(topic))}-${p}`, [Number(n), Number(lo), Number(hi)]);
      }
      for (const [k, end] of ends) assertEquals([k, got.get(k)], [k, [end, 0, end - 1]]);
      conn.closeSync();
      db.closeSync();
      console.log(`archiver kill test: ${kills} kills, ${produced} events, ${files.length} files`);
    } finally {
      await env.cleanup();
    }
  },
});

Deno.test({
  name: "archiver under the speed-layer runtime: SIGKILLs while 200k events flow, exactly once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = await Scenario.create({
      events: Number(Deno.env.get("ARCHIVER_KILL_EVENTS") ?? 200_000),
      env: { CONSUMER_SESSION_TIMEOUT_MS: "6000", STREAM_JOBS: "archiver" },
    });
    let proc: ProcessorChild | undefined;
    const start = () => startProcessor(s.env.env, { jobs: ["archiver"] });
    try {
      proc = await start();
      const producing = s.produce({ batchSize: 1000 });
      for (let kills = 0; kills < 5; kills++) {
        // Kill at a random moment once the child has stored a checkpoint.
        for (let i = 0; i < 600; i++) {
          const h = await proc.health().catch(() => undefined);
          if (h && h.partitions.length > 0 && h.lastFlushAt) break;
          await sleep(50);
        }
        await sleep(Math.random() * 3_000);
        proc.kill("SIGKILL");
        assertEquals((await proc.status).signal, "SIGKILL");
        proc = await start();
      }
      await producing;
      const ends = await endOffsets(s.kafka, TOPIC_KEYS.map((k) => s.cfg.topics[k]));
      await waitForCheckpoints(
        s.client,
        s.cfg.consumerGroup,
        [{ name: "archiver", topics: TOPIC_KEYS.map((k) => s.cfg.topics[k]) }],
        ends,
        { timeoutMs: 300_000 },
      );
      proc.kill("SIGTERM");
      assertEquals((await proc.status).code, 0);
      proc = undefined;
      // Expected: every record that parses, at its offset (its position in its partition).
      const expected = new Set<string>();
      const next = new Map<string, number>();
      for (const r of s.records) {
        const k = `${s.cfg.topics[r.topic]}|${r.partition}`;
        const offset = next.get(k) ?? 0;
        next.set(k, offset + 1);
        if (parseEvent(r.topic, r.value, { now: Date.now(), kafkaTimestamp: r.kafkaTs }).ok) {
          expected.add(`${k}|${offset}`);
        }
      }
      const files = await listArchiveFiles(s.cfg.dataDir);
      const db = await DuckDBInstance.create(":memory:");
      const conn = await db.connect();
      const list = files.map((f) => `'${f.path}'`).join(",");
      const rows = (await conn.runAndReadAll(
        `SELECT topic, "partition", "offset", count(*) FROM read_parquet([${list}]) GROUP BY ALL`,
      )).getRows();
      conn.closeSync();
      db.closeSync();
      const got = new Set(rows.map(([t, p, o]) => `${t}|${p}|${o}`));
      const twice = rows.filter((r) => Number(r[3]) > 1).length;
      const missing = [...expected].filter((k) => !got.has(k));
      const extra = [...got].filter((k) => !expected.has(k));
      assertEquals({ twice, missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, {
        twice: 0,
        missing: [],
        extra: [],
      });
      assert(expected.size > 150_000 * (s.records.length / 200_000));
    } catch (e) {
      if (proc) {
        console.error(proc.logs.slice(-30).join("\n"));
        proc.kill("SIGKILL");
        await proc.status;
      }
      throw e;
    } finally {
      await s.cleanup();
    }
  },
});
