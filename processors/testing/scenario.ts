/**
 * @module
 * A speed-layer scenario against the real servers, shared by the tests in tests/speed_*_test.ts:
 * an isolated environment, generated records and their reference, producing, waiting for every
 * view job's checkpoint to reach the end of every partition, and comparing every realtime row.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { Client } from "cassandra-driver";
import type { Kafka } from "kafkajs";
import { type ResolvedConfig, TOPIC_KEYS } from "../../shared/config.ts";
import { createCassandraClient } from "../../shared/cassandra.ts";
import { topicKeyByName } from "../../shared/events.ts";
import { createKafka } from "../../shared/kafka.ts";
import { generate, type GeneratedRecord } from "../../generator/generate.ts";
import { produceRecords } from "../../generator/produce.ts";
import { Reference } from "../../generator/reference.ts";
import { ensureServers, isolatedTestEnv, type TestEnv } from "../../tests/_servers.ts";
import { readTable } from "./cassandra_rows.ts";
import { VIEW_JOBS, viewJobsOn } from "./jobs.ts";
import {
  type ProcessorChild,
  startProcessor,
  type StartProcessorOptions,
} from "./processor_child.ts";
import { endOffsets, waitForCheckpoints } from "./progress.ts";
import { compareWithReference } from "./reference_check.ts";

export { sleep } from "./until.ts";

/** Options of {@link Scenario.create}. */
export interface ScenarioOptions {
  events: number;
  seed?: number;
  users?: number;
  /** Hours of event time, ending now; default 8. */
  hours?: number;
  /** Extra environment of the processors (e.g. a short session time-out). */
  env?: Record<string, string>;
}

/** One isolated run. */
export class Scenario {
  readonly env: TestEnv;
  readonly cfg: ResolvedConfig;
  readonly kafka: Kafka;
  readonly client: Client;
  readonly records: GeneratedRecord[];
  readonly now: number;
  #produced: GeneratedRecord[] | undefined;

  private constructor(env: TestEnv, records: GeneratedRecord[], now: number) {
    this.env = env;
    this.cfg = env.cfg;
    this.kafka = createKafka(env.cfg, "speed-test");
    this.client = createCassandraClient(env.cfg);
    this.records = records;
    this.now = now;
  }

  /** Starts the servers if needed, creates topics and tables, generates the records. */
  static async create(o: ScenarioOptions): Promise<Scenario> {
    await ensureServers();
    const env = isolatedTestEnv({ env: o.env });
    await env.setup();
    const now = Date.now();
    const records = [...generate({
      seed: o.seed ?? 7,
      users: o.users ?? Math.max(100, Math.round(o.events / 100)),
      courses: 20,
      startMs: now - (o.hours ?? 8) * 3_600_000,
      endMs: now,
      now,
      totalEvents: o.events,
      partitions: env.cfg.topicPartitions,
      malformedShare: 0.01,
      duplicateShare: 0.02,
      outOfOrderShare: 0.04,
      lateShare: 0.01,
    })];
    return new Scenario(env, records, now);
  }

  /** Produces the records (in order), keeping note of any the broker refused. */
  async produce(options: { batchSize?: number } = {}): Promise<void> {
    const { refused } = await produceRecords(this.cfg, this.records, {
      kafka: this.kafka,
      batchSize: options.batchSize,
    });
    const out = new Set(refused);
    this.#produced = this.records.filter((r) => !out.has(r));
  }

  /** Waits until every view job's checkpoint reached the end of every input partition. */
  async waitCovered(timeoutMs: number, onPoll?: () => void | Promise<void>): Promise<void> {
    const ends = await endOffsets(this.kafka, TOPIC_KEYS.map((k) => this.cfg.topics[k]));
    await waitForCheckpoints(
      this.client,
      this.cfg.consumerGroup,
      viewJobsOn(this.cfg.topics),
      ends,
      { timeoutMs, onPoll },
    );
  }

  /** Compares every realtime row with the reference; returns the differences and rows compared. */
  async compare(): Promise<{ diffs: string[]; rows: number; reference: Reference }> {
    if (!this.#produced) throw new Error("Scenario.compare: produce() first");
    const reference = new Reference(this.#produced, {
      now: this.now,
      allowedLatenessMs: this.cfg.allowedLatenessMs,
    });
    const r = await compareWithReference(reference, (t) => readTable(this.client, t), {
      topicKeys: topicKeyByName(this.cfg.topics),
    });
    return { ...r, reference };
  }

  /**
   * Starts `deno task process` with the view jobs in this scenario's environment (log lines also
   * to `SPEED_LOG_FILE` when set).
   */
  startViews(options: StartProcessorOptions = {}): Promise<ProcessorChild> {
    return startProcessor(this.env.env, {
      jobs: VIEW_JOB_NAMES,
      logFile: Deno.env.get("SPEED_LOG_FILE"),
      ...options,
    });
  }

  /**
   * Waits until every view job covered every partition (150 s at most), then asserts that every
   * realtime row equals the reference and that more than `minRows` rows were compared.
   */
  async assertExact(minRows: number): Promise<void> {
    await this.waitCovered(150_000);
    const { diffs, rows } = await this.compare();
    if (diffs.length > 0) {
      const byTable = new Map<string, number>();
      for (const d of diffs) byTable.set(d.split(" ")[0], (byTable.get(d.split(" ")[0]) ?? 0) + 1);
      console.log("differences by table", Object.fromEntries(byTable));
    }
    assertEquals(diffs.slice(0, 20), []);
    assertEquals(rows > minRows, true, `only ${rows} rows compared`);
  }

  /** Drops the keyspace and topics. */
  async cleanup(): Promise<void> {
    await this.client.shutdown().catch(() => {});
    await this.env.cleanup();
  }
}

/** The view jobs' names, for `--jobs`. */
export const VIEW_JOB_NAMES: readonly string[] = VIEW_JOBS.map((j) => j.name);
