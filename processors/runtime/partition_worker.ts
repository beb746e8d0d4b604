/**
 * @module
 * Everything the runtime does for one input (topic, partition), without Kafka or Cassandra: parse
 * each record, route invalid ones to the dead-letter path, run valid ones through the partition's
 * event gate and into every job's task, with the replay rules of docs/DESIGN.md:
 *
 * - a job skips offsets below its checkpoint's `replayOffset`;
 * - it rebuilds state without writing below its `nextOffset` (`replaying`);
 * - the gate restarts at the earliest `replayOffset` among gated jobs, with that checkpoint's
 *   `replayMaxEventTime`, so duplicates, late events and watermarks are decided as before;
 * - invalid records below every job's `nextOffset` were dead-lettered before and are not again;
 * - a record a job rejects through {@link TaskContext.reject} is dead-lettered unless that job
 *   replays it (below its `nextOffset`, so sent before the checkpoint that covers it).
 */
import type { StreamJob, TopicKey } from "../../shared/config.ts";
import type { Rejection, ValidEvent } from "../../shared/events.ts";
import { EventGate } from "../operators/event_gate.ts";
import { loadedTime } from "../jobs/view_task.ts";
import { parseRecord } from "./fast_parse.ts";
import type {
  Checkpoint,
  EventContext,
  JobDefinition,
  PartitionTask,
  PreparedFlush,
  RecordMeta,
  TaskContext,
} from "./task.ts";

/** A Kafka record as the worker needs it. */
export interface InputRecord {
  offset: number;
  /** Kafka message timestamp (ms). */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
}

/** What happened to a record. */
export const enum Outcome {
  /** Below every consumer's start, or already handled. */
  Skipped,
  /** Rebuilt state only (below every job's `nextOffset`). */
  Replayed,
  /** Valid and applied (or archived). */
  Applied,
  /** A realtime duplicate. */
  Duplicate,
  /** Late for the realtime views. */
  Late,
  /**
   * Invalid: dead-letter it ({@link PartitionWorker.lastRejection}). Either the parser rejected it,
   * or a job did ({@link PartitionWorker.lastRejectedBy}; the other jobs still got it).
   */
  Invalid,
}

/** Options of {@link PartitionWorker.create}. */
export interface PartitionWorkerOptions {
  topic: TopicKey;
  /** The actual Kafka topic name. */
  topicName: string;
  partition: number;
  /** Enabled jobs that read this topic. */
  jobs: readonly JobDefinition[];
  /** Stored checkpoints of this (topic, partition) by job. */
  checkpoints: ReadonlyMap<StreamJob, Checkpoint>;
  /** `ALLOWED_LATENESS_MS`. */
  allowedLatenessMs: number;
  /** Realtime dedup horizon; default 3600000. */
  dedupHorizonMs?: number;
  /** Wall clock for the parser's future check; default `Date.now`. */
  now?: () => number;
}

interface Slot {
  job: JobDefinition;
  task: PartitionTask;
  /** Offsets below are skipped. */
  from: number;
  /** Offsets below are replayed without writes. */
  next: number;
  /** Last checkpoint stored (or loaded). */
  stored: Checkpoint | undefined;
}

const UNGATED: EventContext = {
  duplicate: false,
  late: false,
  maxEventTimeBefore: -Infinity,
  watermark: -Infinity,
};

const decoder = new TextDecoder();

class Meta implements RecordMeta {
  #value: Uint8Array | null;
  #raw: string | null | undefined;
  #keyBytes: Uint8Array | null;
  #key: string | null | undefined;
  constructor(
    readonly topic: TopicKey,
    readonly partition: number,
    readonly offset: number,
    readonly kafkaTs: number,
    value: Uint8Array | null,
    key: Uint8Array | null,
    raw: string | undefined,
  ) {
    this.#value = value;
    this.#raw = raw;
    this.#keyBytes = key;
  }
  get raw(): string | null {
    if (this.#raw === undefined) this.#raw = this.#value ? decoder.decode(this.#value) : null;
    return this.#raw;
  }
  get key(): string | null {
    if (this.#key === undefined) this.#key = this.#keyBytes ? decoder.decode(this.#keyBytes) : null;
    return this.#key;
  }
}

/** One job's flush of this partition, prepared. */
export interface JobFlush {
  job: StreamJob;
  prepared: PreparedFlush | undefined;
  /** For tasks without two-phase flush: call under the runtime's lock. */
  flush: (() => Promise<Checkpoint>) | undefined;
}

/** The runtime's state of one input partition. */
export class PartitionWorker {
  readonly topic: TopicKey;
  readonly topicName: string;
  readonly partition: number;
  /** First offset any job needs (undefined: some job has no checkpoint, start at the log start). */
  readonly startOffset: number | undefined;
  /** Next offset to handle (every offset below was handled); −1 before the first record. */
  position = -1;
  /** Wall-clock time of the last record handled. */
  lastDataAt = 0;
  /** Kafka's end offset of the partition as last seen (for lag). */
  endOffset = -1;
  /** Why the last {@link Outcome.Invalid} record was rejected. */
  lastRejection: Rejection | undefined;
  /** The job that rejected the last {@link Outcome.Invalid} record (undefined: the parser). */
  lastRejectedBy: StreamJob | undefined;
  #slots: Slot[];
  #gate: EventGate | undefined;
  #gateFrom: number;
  #dlqFrom: number;
  #now: () => number;
  #pending = 0;
  /** The slot whose `onEvent` is running, and its record (for {@link TaskContext.reject}). */
  #handing: Slot | undefined;
  #handingOffset = -1;
  #handingReplay = false;
  /** The first job rejection of the record being handled. */
  #jobRejection: Rejection | undefined;
  #jobRejectedBy: StreamJob | undefined;

  private constructor(o: PartitionWorkerOptions, slots: Slot[]) {
    this.topic = o.topic;
    this.topicName = o.topicName;
    this.partition = o.partition;
    this.#slots = slots;
    this.#now = o.now ?? Date.now;
    const from = (s: Slot) => s.stored ? s.stored.replayOffset : -Infinity;
    const start = Math.min(...slots.map(from));
    this.startOffset = Number.isFinite(start) ? start : undefined;
    this.#dlqFrom = Math.min(...slots.map((s) => s.stored ? s.stored.nextOffset : -Infinity));
    const gated = slots.filter((s) => s.job.gated);
    this.#gateFrom = Infinity;
    if (gated.length > 0) {
      let first = gated[0];
      for (const s of gated) if (from(s) < from(first)) first = s;
      this.#gateFrom = from(first);
      this.#gate = new EventGate({
        allowedLatenessMs: o.allowedLatenessMs,
        dedupHorizonMs: o.dedupHorizonMs,
        initialMaxEventTime: first.stored ? loadedTime(first.stored.replayMaxEventTime) : undefined,
      });
    }
  }

  /** Creates the tasks of every job for this partition from their checkpoints. */
  static async create(o: PartitionWorkerOptions): Promise<PartitionWorker> {
    const gate = { current: undefined as EventGate | undefined };
    const view = {
      replayPoint: () => gate.current?.replayPoint(),
      get maxEventTime() {
        return gate.current?.maxEventTime ?? -Infinity;
      },
      get watermark() {
        return gate.current?.watermark ?? -Infinity;
      },
    };
    const worker = { current: undefined as PartitionWorker | undefined };
    const slots: Slot[] = [];
    for (const job of o.jobs) {
      const stored = o.checkpoints.get(job.name);
      const context: TaskContext = {
        topicName: o.topicName,
        gate: view,
        reject: (meta, rejection) => {
          if (!worker.current) {
            throw new Error(`Job ${job.name} rejected a record before its partition started`);
          }
          worker.current.#reject(job.name, meta, rejection);
        },
      };
      const task = await job.createTask(o.topic, o.partition, stored, context);
      slots.push({
        job,
        task,
        from: stored ? stored.replayOffset : -Infinity,
        next: stored ? stored.nextOffset : -Infinity,
        stored,
      });
    }
    const w = new PartitionWorker(o, slots);
    gate.current = w.#gate;
    worker.current = w;
    return w;
  }

  /** {@link TaskContext.reject} of a job's task. */
  #reject(job: StreamJob, meta: RecordMeta, rejection: Rejection): void {
    if (this.#handing?.job.name !== job || meta.offset !== this.#handingOffset) {
      throw new Error(
        `Job ${job} rejected offset ${meta.offset} of ${this.topicName}/${this.partition} ` +
          `outside its onEvent call for that record`,
      );
    }
    if (this.#handingReplay || this.#jobRejection) return;
    this.#jobRejection = rejection;
    this.#jobRejectedBy = job;
  }

  /** The partition's gate (undefined when no gated job reads it). */
  get gate(): EventGate | undefined {
    return this.#gate;
  }

  /** Jobs of this partition. */
  get jobs(): StreamJob[] {
    return this.#slots.map((s) => s.job.name);
  }

  /** Events handed to tasks since the last flush (replays excluded). */
  get pending(): number {
    return this.#pending;
  }

  /** Whether every job has passed its `nextOffset` (no replay left). */
  get caughtUp(): boolean {
    return this.#slots.every((s) => this.position >= s.next);
  }

  /** Handles the next record of the partition (in offset order). */
  handle(r: InputRecord): Outcome {
    const o = r.offset;
    if (o < this.position) return Outcome.Skipped;
    this.position = o + 1;
    this.lastDataAt = this.#now();
    const slots = this.#slots;
    let needed = o >= this.#gateFrom || o >= this.#dlqFrom;
    for (let i = 0; !needed && i < slots.length; i++) needed = o >= slots[i].from;
    if (!needed) return Outcome.Skipped;
    const parsed = parseRecord(this.topic, r.value, this.#now(), r.timestamp);
    if (parsed.err) {
      if (o < this.#dlqFrom) return Outcome.Replayed;
      this.lastRejection = parsed.err;
      this.lastRejectedBy = undefined;
      return Outcome.Invalid;
    }
    const event: ValidEvent = parsed.ok;
    let ctx = UNGATED;
    if (this.#gate && o >= this.#gateFrom) {
      ctx = this.#gate.decide(
        event.topic === "CDC" ? undefined : event.data.event_id,
        event.eventTime,
        r.timestamp,
        o,
      );
    }
    const meta = new Meta(this.topic, this.partition, o, r.timestamp, r.value, r.key, parsed.raw);
    let replayedOnly = true;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (o < s.from) continue;
      const replaying = o < s.next;
      if (!replaying) replayedOnly = false;
      this.#handing = s;
      this.#handingOffset = o;
      this.#handingReplay = replaying;
      s.task.onEvent(event, meta, replaying, s.job.gated ? ctx : UNGATED);
    }
    this.#handing = undefined;
    if (replayedOnly) return Outcome.Replayed;
    this.#pending++;
    if (this.#jobRejection) {
      this.lastRejection = this.#jobRejection;
      this.lastRejectedBy = this.#jobRejectedBy;
      this.#jobRejection = undefined;
      return Outcome.Invalid;
    }
    return ctx.duplicate ? Outcome.Duplicate : ctx.late ? Outcome.Late : Outcome.Applied;
  }

  /**
   * Notes that every offset below `offset` was handled although no record arrived for some of
   * them (compacted or aborted transactional records).
   */
  advanceTo(offset: number): void {
    if (offset > this.position) this.position = offset;
  }

  /**
   * Prepares every job's flush at the current position. Two-phase tasks snapshot now; others are
   * returned as a `flush` thunk to run before any further record is handled.
   */
  prepareFlush(): JobFlush[] {
    this.#pending = 0;
    const position = this.position;
    return this.#slots.map((s) => {
      if (position < 0) return { job: s.job.name, prepared: undefined, flush: undefined };
      if (s.task.prepareFlush) {
        return { job: s.job.name, prepared: s.task.prepareFlush(position), flush: undefined };
      }
      return { job: s.job.name, prepared: undefined, flush: () => s.task.flush(position) };
    });
  }

  /** The last stored checkpoint of a job. */
  stored(job: StreamJob): Checkpoint | undefined {
    return this.#slots.find((s) => s.job.name === job)?.stored;
  }

  /** Records that a job's checkpoint was stored. */
  markStored(job: StreamJob, c: Checkpoint): void {
    const s = this.#slots.find((x) => x.job.name === job);
    if (s) s.stored = c;
  }

  /** The Kafka offset to commit: the earliest replay offset over jobs (undefined: unknown yet). */
  commitOffset(): number | undefined {
    let min = Infinity;
    for (const s of this.#slots) {
      if (!s.stored) return undefined;
      if (s.stored.replayOffset < min) min = s.stored.replayOffset;
    }
    return Number.isFinite(min) ? min : undefined;
  }

  /** Closes every task (without writing). */
  async close(): Promise<void> {
    for (const s of this.#slots) await s.task.close();
  }
}
