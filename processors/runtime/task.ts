/**
 * @module
 * The contract between the stream runtime (consumer, checkpoints, flush loop) and a stream job.
 * A job owns one {@link PartitionTask} per (input topic, partition) it is assigned. The runtime
 * feeds it events in offset order, asks it to flush, and stores the returned checkpoint only after
 * the flush's writes succeeded. See docs/DESIGN.md "Exactly-once in the speed layer".
 */
import type { StreamJob, TopicKey } from "../../shared/config.ts";
import type { ValidEvent } from "../../shared/events.ts";

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

/** Per-(topic, partition) state of one job. */
export interface PartitionTask {
  /**
   * Applies one valid event. `replaying` is true while `meta.offset < checkpoint.nextOffset`: state
   * must be rebuilt but nothing already written needs writing again.
   */
  onEvent(event: ValidEvent, meta: RecordMeta, replaying: boolean): void;
  /** Offsets the task has seen are skipped by the runtime below `replayOffset`. */
  readonly resumeFrom: Checkpoint | undefined;
  /** Number of events applied since the last flush (the runtime flushes early past a bound). */
  pending(): number;
  /**
   * Writes every output changed since the last flush (idempotently), then returns the checkpoint
   * that is now safe to store. Throws when a write failed (the runtime retries with backoff).
   */
  flush(): Promise<Checkpoint>;
  /** Releases resources without writing (partition revoked after its final flush, or shutdown). */
  close(): Promise<void>;
}

/** A stream job: which topics it reads and how it builds a task for a partition. */
export interface JobDefinition {
  name: StreamJob;
  topics: readonly TopicKey[];
  /** Creates the task of a newly assigned partition, resuming from its stored checkpoint. */
  createTask(
    topic: TopicKey,
    partition: number,
    resume: Checkpoint | undefined,
  ): Promise<PartitionTask>;
}
