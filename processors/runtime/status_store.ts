/**
 * @module
 * The speed layer's status per input partition, for the serving layer's `realtimeWatermark` and
 * `lag` (table `stream_status`, documented in processors/README.md).
 */
import type { Client } from "cassandra-driver";

/** One partition's status. */
export interface PartitionStatus {
  topic: string;
  partition: number;
  /** Per-partition watermark (epoch ms), −1 when unknown. */
  watermark: number;
  /** Max event time seen (epoch ms), −1 when unknown. */
  maxEventTime: number;
  /** Next offset to read. */
  nextOffset: number;
  /** Kafka end offset (high watermark) as last seen, −1 when unknown. */
  endOffset: number;
  /** Wall-clock time the partition last delivered a record (epoch ms), 0 when never. */
  lastDataAt: number;
}

/** Where partition statuses go. */
export interface StatusStore {
  write(statuses: readonly PartitionStatus[], owner: string): Promise<void>;
}

/** Statuses in Cassandra `stream_status`. */
export class CassandraStatusStore implements StatusStore {
  #client: Client;
  #group: string;

  constructor(client: Client, consumerGroup: string) {
    this.#client = client;
    this.#group = consumerGroup;
  }

  async write(statuses: readonly PartitionStatus[], owner: string): Promise<void> {
    if (statuses.length === 0) return;
    const now = new Date();
    const queries = statuses.map((s) => ({
      query:
        "INSERT INTO stream_status (consumer_group, topic, kpart, watermark, max_event_time, " +
        "next_offset, end_offset, lag, last_data_at, owner, updated_at) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params: [
        this.#group,
        s.topic,
        s.partition,
        s.watermark,
        s.maxEventTime,
        s.nextOffset,
        s.endOffset,
        s.endOffset >= 0 ? Math.max(0, s.endOffset - s.nextOffset) : null,
        s.lastDataAt > 0 ? new Date(s.lastDataAt) : null,
        owner,
        now,
      ],
    }));
    for (let i = 0; i < queries.length; i += 50) {
      await this.#client.batch(queries.slice(i, i + 50), { prepare: true, logged: false });
    }
  }
}

/** Statuses in memory (tests). */
export class MemoryStatusStore implements StatusStore {
  readonly rows = new Map<string, PartitionStatus & { owner: string }>();
  write(statuses: readonly PartitionStatus[], owner: string): Promise<void> {
    for (const s of statuses) this.rows.set(`${s.topic}/${s.partition}`, { ...s, owner });
    return Promise.resolve();
  }
}
