/**
 * @module
 * The contract between the stream runtime (consumer, checkpoints, flush loop) and a stream job.
 * A job owns one {@link PartitionTask} per (input topic, partition) it is assigned. The runtime
 * feeds it events in offset order, asks it to flush, and stores the returned checkpoint only after
 * the flush's writes succeeded. See docs/DESIGN.md "Exactly-once in the speed layer".
 *
 * Additions since the first version, all optional for implementers (the archiver needs none):
 * `onEvent`'s fourth argument ({@link EventContext}), `createTask`'s fourth argument
 * ({@link TaskContext}), `flush`'s `position` argument, the two-phase {@link PartitionTask.prepareFlush},
 * {@link JobDefinition.gated} and the dead-letter hook {@link TaskContext.reject}.
 */
import type { StreamJob, TopicKey } from "../../shared/config.ts";
import type { Rejection, ValidEvent } from "../../shared/events.ts";
import type { ReplayPoint } from "../operators/replay_point.ts";

/** Where a task resumes: stored after the writes it covers. */
export interface Checkpoint {
  /** First offset not yet covered by written output (the next offset to write for). */
  nextOffset: number;
  /** First offset whose event may still belong to open state; the runtime replays from here. */
  replayOffset: number;
  /** The partition's max event time before `replayOffset` (−1 when none), so watermarks replay identically. */
  replayMaxEventTime: number;
  /** The task's current watermark (max event time − allowed lateness), −1 when none. */
  watermark: number;
}

/** Kafka coordinates of a record. */
export interface RecordMeta {
  topic: TopicKey;
  partition: number;
  offset: number;
  /** Kafka message timestamp (ms). */
  kafkaTs: number;
  /** The original message value as UTF-8 text (null for a tombstone). */
  raw: string | null;
  /** The message key as text, if any. */
  key: string | null;
}

/**
 * What the (topic, partition)'s event gate decided about an event (processors/operators/event_gate.ts):
 * realtime dedup, the late rule and the watermark, shared by every view job of the partition.
 */
export interface EventContext {
  /** A re-sent copy within the 1-hour dedup horizon (apply to no realtime view). */
  duplicate: boolean;
  /** Later than the allowed lateness (count as late, apply to no realtime view). */
  late: boolean;
  /** The partition's max event time before this event (for replay points). */
  maxEventTimeBefore: number;
  /** The partition's watermark after this event. */
  watermark: number;
}

/** The partition's shared gate as a task sees it. */
export interface GateView {
  /** Where a replay must start to rebuild the gate's dedup memory (undefined: nothing open). */
  replayPoint(): ReplayPoint | undefined;
  /** The partition's max event time so far (−Infinity before any event). */
  readonly maxEventTime: number;
  /** The partition's watermark (−Infinity before any event). */
  readonly watermark: number;
}

/** What the runtime gives a task besides its checkpoint. */
export interface TaskContext {
  /** The actual Kafka topic name of the task's logical topic. */
  topicName: string;
  /** The (topic, partition)'s shared gate; its replay point bounds a gated task's replay offset. */
  gate: GateView;
  /**
   * Reports the record being handled as rejected by the job (a check the runtime's parser cannot
   * make, e.g. a CDC row change without a key). Call it only from within
   * {@link PartitionTask.onEvent}, for that call's record. The runtime sends the record to
   * `<topic>.dlq` unchanged with the same headers as its own dead letters (`error.reason`,
   * `error.field`, `error.detail`, `source.*`) plus `error.job`, counts it as rejected, and sends
   * it before storing any checkpoint whose `nextOffset` is past it. Calls while the record is
   * replayed (`replaying`) are ignored: its dead letter was sent before that checkpoint. A record
   * rejected by several jobs is dead-lettered once, with the first reason. The runtime always
   * passes it.
   * @throws {Error} when called outside `onEvent` or for another record
   */
  reject?(meta: RecordMeta, rejection: Rejection): void;
}

/** A flush snapshotted synchronously, to be written while the runtime keeps consuming. */
export interface PreparedFlush {
  /** The checkpoint to store once {@link write} resolved. */
  readonly checkpoint: Checkpoint;
  /** Number of rows the flush writes. */
  readonly rows: number;
  /** Rows per table name, when the task knows them (the `table` label of the rows metric). */
  readonly rowsByTable?: ReadonlyMap<string, number>;
  /** Writes the snapshot (idempotent: the runtime calls it again after a failure). */
  write(): Promise<void>;
}

/** Per-(topic, partition) state of one job. */
export interface PartitionTask {
  /**
   * Applies one valid event. `replaying` is true while `meta.offset < checkpoint.nextOffset`: state
   * must be rebuilt but nothing already written needs writing again. `ctx` is the gate's decision
   * (gated jobs must skip duplicates and late events themselves: they are still fed so that
   * late counts and replay points stay exact). The runtime always passes `ctx`; it is optional only
   * so that jobs which ignore it (the archiver) and their tests need not mention it.
   */
  onEvent(event: ValidEvent, meta: RecordMeta, replaying: boolean, ctx?: EventContext): void;
  /** Offsets the task has seen are skipped by the runtime below `replayOffset`. */
  readonly resumeFrom: Checkpoint | undefined;
  /** Number of events applied since the last flush (the runtime flushes early past a bound). */
  pending(): number;
  /**
   * Writes every output changed since the last flush (idempotently), then returns the checkpoint
   * that is now safe to store. Throws when a write failed (the runtime retries with backoff).
   * @param position every offset below it has been handed to the runtime (events of this task
   *   fed, invalid records dead-lettered), so a task with no open state may resume there; the
   *   runtime always passes it
   */
  flush(position?: number): Promise<Checkpoint>;
  /**
   * Optional two-phase flush: snapshots synchronously what {@link flush} would write and the
   * checkpoint it would return, so the runtime can keep feeding events while the rows are written.
   * Events fed after the call belong to the next flush.
   */
  prepareFlush?(position: number): PreparedFlush;
  /** Releases resources without writing (partition revoked after its final flush, or shutdown). */
  close(): Promise<void>;
}

/** A stream job: which topics it reads and how it builds a task for a partition. */
export interface JobDefinition {
  name: StreamJob;
  topics: readonly TopicKey[];
  /**
   * True for realtime view jobs that rely on the shared gate (dedup, lateness): the gate of a
   * (topic, partition) is rebuilt from the earliest replay offset among the gated jobs.
   */
  gated?: boolean;
  /**
   * Creates the task of a newly assigned partition, resuming from its stored checkpoint. The
   * runtime always passes `context`; gated jobs reject without it.
   */
  createTask(
    topic: TopicKey,
    partition: number,
    resume: Checkpoint | undefined,
    context?: TaskContext,
  ): Promise<PartitionTask>;
}
