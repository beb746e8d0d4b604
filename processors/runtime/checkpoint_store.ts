/**
 * @module
 * Where checkpoints live: Cassandra `stream_checkpoints ((consumer_group), job, topic, kpart)`
 * (docs/DESIGN.md), or memory in unit tests. A checkpoint is stored only after the writes it
 * covers succeeded; an older checkpoint overwriting a newer one is harmless (it only replays more).
 */
import type { Client } from "cassandra-driver";
import type { StreamJob } from "../../shared/config.ts";
import type { Checkpoint } from "./task.ts";

/** One checkpoint with its coordinates. */
export interface CheckpointEntry {
  job: StreamJob;
  /** Actual Kafka topic name. */
  topic: string;
  partition: number;
  checkpoint: Checkpoint;
}

/** Checkpoints of one consumer group. */
export interface CheckpointStore {
  /** Every stored checkpoint of the group, keyed by {@link checkpointKey}. */
  loadAll(): Promise<Map<string, Checkpoint>>;
  /** Stores checkpoints (all or, on failure, possibly some). */
  store(entries: readonly CheckpointEntry[]): Promise<void>;
}

/** The key of a checkpoint in {@link CheckpointStore.loadAll}'s map. */
export function checkpointKey(job: string, topic: string, partition: number): string {
  return `${job}\u0000${topic}\u0000${partition}`;
}

/** Checkpoints in memory. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly entries = new Map<string, Checkpoint>();

  loadAll(): Promise<Map<string, Checkpoint>> {
    return Promise.resolve(new Map(this.entries));
  }

  store(entries: readonly CheckpointEntry[]): Promise<void> {
    for (const e of entries) {
      this.entries.set(checkpointKey(e.job, e.topic, e.partition), { ...e.checkpoint });
    }
    return Promise.resolve();
  }
}

/** Checkpoints in Cassandra. */
export class CassandraCheckpointStore implements CheckpointStore {
  #client: Client;
  #group: string;

  /**
   * @param client a client connected to the keyspace holding `stream_checkpoints`
   * @param consumerGroup the consumer group whose checkpoints these are
   */
  constructor(client: Client, consumerGroup: string) {
    this.#client = client;
    this.#group = consumerGroup;
  }

  async loadAll(): Promise<Map<string, Checkpoint>> {
    const rs = await this.#client.execute(
      "SELECT job, topic, kpart, next_offset, replay_offset, replay_max_event_time, watermark " +
        "FROM stream_checkpoints WHERE consumer_group = ?",
      [this.#group],
      { prepare: true, fetchSize: 5000 },
    );
    const out = new Map<string, Checkpoint>();
    for await (const r of rs) {
      out.set(checkpointKey(r.get("job"), r.get("topic"), r.get("kpart")), {
        nextOffset: Number(r.get("next_offset")),
        replayOffset: Number(r.get("replay_offset")),
        replayMaxEventTime: Number(r.get("replay_max_event_time")),
        watermark: Number(r.get("watermark")),
      });
    }
    return out;
  }

  async store(entries: readonly CheckpointEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const now = new Date();
    const queries = entries.map((e) => ({
      query: "INSERT INTO stream_checkpoints (consumer_group, job, topic, kpart, next_offset, " +
        "replay_offset, replay_max_event_time, watermark, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params: [
        this.#group,
        e.job,
        e.topic,
        e.partition,
        e.checkpoint.nextOffset,
        e.checkpoint.replayOffset,
        e.checkpoint.replayMaxEventTime,
        e.checkpoint.watermark,
        now,
      ],
    }));
    // One Cassandra partition (the group): an unlogged batch per chunk, chunks concurrently (the
    // entries of one call are distinct rows; calls are made one after the other).
    const chunks = [];
    for (let i = 0; i < queries.length; i += 50) {
      chunks.push(
        this.#client.batch(queries.slice(i, i + 50), { prepare: true, logged: false }),
      );
    }
    const results = await Promise.allSettled(chunks);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
