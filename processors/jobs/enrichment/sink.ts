/**
 * @module
 * Where enriched events go, per source (topic, partition): an atomic commit of a batch of
 * messages together with the first source offset not yet covered. Opening a partition's sink
 * fences any older writer of the same source partition and tells where its committed output
 * stops; a new owner produces only from there, so each source offset's message is committed
 * exactly once.
 * kafka_sink.ts implements this with Kafka transactions; {@link MemorySink} for unit tests.
 */
import type { EnrichedMessage } from "./enriched.ts";

/** The output of one source (topic, partition). */
export interface PartitionSink {
  /** First source offset not covered by committed output when opened (undefined: none). */
  readonly committedNext: number | undefined;
  /**
   * Commits `messages` and `nextOffset` atomically: either all messages become visible and the
   * sink's committed offset becomes `nextOffset`, or nothing does.
   * @throws when the commit failed (nothing of it is visible) or this writer was fenced
   */
  commit(messages: readonly EnrichedMessage[], nextOffset: number): Promise<void>;
  /** Releases the writer (an open transaction is aborted). */
  close(): Promise<void>;
}

/** Opens sinks per source partition. */
export interface EnrichedSink {
  /**
   * Opens the sink of a source partition: fences older writers of it (their open transaction is
   * aborted), then reads the committed offset.
   * @param topic actual Kafka topic name of the source
   */
  open(topic: string, partition: number): Promise<PartitionSink>;
  /** Releases shared connections. */
  close(): Promise<void>;
}

/** A committed message in memory. */
export interface MemoryMessage extends EnrichedMessage {
  sourceTopic: string;
  sourcePartition: number;
}

/** In-memory sink with the same contract (fencing by epoch, atomic commits). */
export class MemorySink implements EnrichedSink {
  readonly messages: MemoryMessage[] = [];
  readonly committed = new Map<string, number>();
  #epochs = new Map<string, number>();
  /** When set, the next commit fails with it (nothing becomes visible). */
  failNext: Error | undefined;

  open(topic: string, partition: number): Promise<PartitionSink> {
    const k = `${topic}/${partition}`;
    const epoch = (this.#epochs.get(k) ?? 0) + 1;
    this.#epochs.set(k, epoch);
    const commit = (messages: readonly EnrichedMessage[], nextOffset: number) => {
      if (this.#epochs.get(k) !== epoch) {
        return Promise.reject(new Error(`writer of ${k} was fenced by a newer owner`));
      }
      if (this.failNext) {
        const e = this.failNext;
        this.failNext = undefined;
        return Promise.reject(e);
      }
      for (const m of messages) {
        this.messages.push({ ...m, sourceTopic: topic, sourcePartition: partition });
      }
      this.committed.set(k, nextOffset);
      return Promise.resolve();
    };
    return Promise.resolve({
      committedNext: this.committed.get(k),
      commit,
      close: () => Promise.resolve(),
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
