/**
 * @module
 * A Kafka-free, Cassandra-free simulation of the runtime for unit tests: per-(topic, partition)
 * logs, partition workers, flushes that write to a {@link MemoryViewStore} and then store
 * checkpoints in a map, crashes that drop everything not flushed, and restarts from the committed
 * offsets. Exactly the replay rules of the real runtime, without the network.
 */
import type { StreamJob, TopicKey } from "../../shared/config.ts";
import type { Rejection } from "../../shared/events.ts";
import type { Checkpoint, JobDefinition } from "./task.ts";
import { Outcome, PartitionWorker } from "./partition_worker.ts";

const enc = new TextEncoder();

/** A record appended to a simulated topic partition. */
export interface SimRecord {
  topic: TopicKey;
  partition: number;
  kafkaTs: number;
  value: string | null;
  key?: string | null;
}

/** Options of {@link Sim}. */
export interface SimOptions {
  jobs: JobDefinition[];
  allowedLatenessMs?: number;
  /** Parser clock; default a fixed time far after any test data. */
  now?: number;
}

/** Dead-lettered records: topic, partition, offset, reason (and the job, when a job rejected it). */
export interface SimDlq {
  topic: TopicKey;
  partition: number;
  offset: number;
  rejection: Rejection;
  job?: StreamJob;
}

function id(topic: TopicKey, partition: number): string {
  return `${topic}|${partition}`;
}

/** The simulated runtime. */
export class Sim {
  logs = new Map<string, { topic: TopicKey; partition: number; records: SimRecord[] }>();
  checkpoints = new Map<string, Map<StreamJob, Checkpoint>>();
  committed = new Map<string, number>();
  dlq: SimDlq[] = [];
  outcomes = new Map<Outcome, number>();
  #o: Required<SimOptions>;
  #workers = new Map<string, PartitionWorker>();
  /** Next offset to read per partition in the current incarnation. */
  #cursor = new Map<string, number>();

  constructor(o: SimOptions) {
    this.#o = {
      jobs: o.jobs,
      allowedLatenessMs: o.allowedLatenessMs ?? 600_000,
      now: o.now ?? Date.UTC(2100, 0, 1),
    };
  }

  append(r: SimRecord): void {
    const k = id(r.topic, r.partition);
    let log = this.logs.get(k);
    if (!log) this.logs.set(k, log = { topic: r.topic, partition: r.partition, records: [] });
    log.records.push(r);
  }

  async #worker(k: string): Promise<PartitionWorker> {
    let w = this.#workers.get(k);
    if (w) return w;
    const log = this.logs.get(k)!;
    w = await PartitionWorker.create({
      topic: log.topic,
      topicName: `t_${log.topic.toLowerCase()}`,
      partition: log.partition,
      jobs: this.#o.jobs.filter((j) => j.topics.includes(log.topic)),
      checkpoints: this.checkpoints.get(k) ?? new Map(),
      allowedLatenessMs: this.#o.allowedLatenessMs,
      now: () => this.#o.now,
    });
    this.#workers.set(k, w);
    this.#cursor.set(k, w.startOffset ?? 0);
    return w;
  }

  /**
   * Reads up to `budget` records round-robin over partitions (chunks of `chunk`), flushing after
   * every `flushEvery` records. Returns the number of records read.
   */
  async run(budget = Infinity, { chunk = 7, flushEvery = 50 } = {}): Promise<number> {
    let read = 0, sinceFlush = 0;
    for (;;) {
      let progressed = false;
      for (const k of this.logs.keys()) {
        const w = await this.#worker(k);
        const records = this.logs.get(k)!.records;
        let c = this.#cursor.get(k)!;
        for (let i = 0; i < chunk && c < records.length && read < budget; i++, c++) {
          const r = records[c];
          const out = w.handle({
            offset: c,
            timestamp: r.kafkaTs,
            key: r.key ? enc.encode(r.key) : null,
            value: r.value === null ? null : enc.encode(r.value),
          });
          this.outcomes.set(out, (this.outcomes.get(out) ?? 0) + 1);
          if (out === Outcome.Invalid) {
            this.dlq.push({
              topic: w.topic,
              partition: w.partition,
              offset: c,
              rejection: w.lastRejection!,
              job: w.lastRejectedBy,
            });
          }
          read++;
          sinceFlush++;
          progressed = true;
        }
        this.#cursor.set(k, c);
        if (sinceFlush >= flushEvery) {
          await this.flush();
          sinceFlush = 0;
        }
      }
      if (!progressed || read >= budget) break;
    }
    return read;
  }

  /** Flushes every worker: writes, then checkpoints, then commits. */
  async flush(): Promise<void> {
    for (const [k, w] of this.#workers) {
      const stored = this.checkpoints.get(k) ?? new Map<StreamJob, Checkpoint>();
      this.checkpoints.set(k, stored);
      for (const f of w.prepareFlush()) {
        let c: Checkpoint | undefined;
        if (f.prepared) {
          await f.prepared.write();
          c = f.prepared.checkpoint;
        } else if (f.flush) c = await f.flush();
        if (c) {
          stored.set(f.job, c);
          w.markStored(f.job, c);
        }
      }
      const commit = w.commitOffset();
      if (commit !== undefined) this.committed.set(k, commit);
    }
  }

  /**
   * Reads every record, crashing after each count of records read in `crashes` (ascending), then
   * flushes twice: the second, quiet flush writes what parts deferred.
   */
  async runCrashing(
    crashes: readonly number[],
    options: { chunk?: number; flushEvery?: number } = {},
  ): Promise<void> {
    let done = 0;
    for (const at of crashes) {
      done += await this.run(at - done, options);
      await this.crash();
    }
    await this.run(Infinity, options);
    await this.flush();
    await this.flush();
  }

  /** Drops every worker and everything not flushed; the next run resumes from checkpoints. */
  async crash(): Promise<void> {
    for (const w of this.#workers.values()) await w.close();
    this.#workers.clear();
    this.#cursor.clear();
  }
}
