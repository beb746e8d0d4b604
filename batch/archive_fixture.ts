/**
 * @module
 * Writes generated records (generator/) into a master dataset as the archiver would: offsets are
 * the records' positions in their topic-partition, invalid records are left out, rows are written
 * in chunks per (topic, partition) split by event hour. For tests and benchmarks of the batch
 * layer without Kafka.
 */
import { type ArchiveRow, archiveRow, writeArchive } from "../shared/archive.ts";
import type { TopicKey } from "../shared/config.ts";
import { parseEvent } from "../shared/events.ts";

/** A record to archive (the shape of generator's `GeneratedRecord`). */
export interface FixtureRecord {
  topic: TopicKey;
  partition: number;
  key: string | null;
  value: string | null;
  kafkaTs: number;
  /** Offset; default the next one of its topic-partition. */
  offset?: number;
}

/** Options of {@link createArchiveFixture}. */
export interface FixtureOptions {
  /** Actual Kafka topic names. */
  topics: Record<TopicKey, string>;
  /** The `now` of the future check; default `Date.now()`. */
  now?: number;
  /** Rows per (topic, partition) chunk before it is written; default 100000. */
  chunkRows?: number;
  /** fsync files; default false (fixtures). */
  fsync?: boolean;
}

/** An open fixture writer. */
export interface ArchiveFixture {
  /** Adds a record (in per-partition offset order); returns its offset, or −1 when invalid. */
  add(record: FixtureRecord): Promise<number>;
  /** Writes what is buffered; returns the counts. */
  close(): Promise<{ valid: number; invalid: number; files: number }>;
}

/** Opens a fixture writer over `dataDir`. */
export function createArchiveFixture(dataDir: string, options: FixtureOptions): ArchiveFixture {
  const next = new Map<string, number>();
  const buffers = new Map<string, ArchiveRow[]>();
  const chunk = options.chunkRows ?? 100_000;
  const now = options.now ?? Date.now();
  let valid = 0, invalid = 0, files = 0;
  const flush = async (k: string) => {
    const rows = buffers.get(k);
    if (!rows || rows.length === 0) return;
    buffers.set(k, []);
    files += (await writeArchive(dataDir, rows, { fsync: options.fsync ?? false })).length;
  };
  return {
    async add(r) {
      const k = `${r.topic}:${r.partition}`;
      const offset = r.offset ?? next.get(k) ?? 0;
      next.set(k, offset + 1);
      const parsed = parseEvent(r.topic, r.value, { now, kafkaTimestamp: r.kafkaTs });
      if (!parsed.ok) {
        invalid++;
        return -1;
      }
      valid++;
      let buf = buffers.get(k);
      if (!buf) buffers.set(k, buf = []);
      buf.push(archiveRow(parsed.ok, {
        topic: options.topics[r.topic],
        partition: r.partition,
        offset,
        kafkaTs: r.kafkaTs,
        raw: r.value,
        key: r.key,
      }));
      if (buf.length >= chunk) await flush(k);
      return offset;
    },
    async close() {
      for (const k of [...buffers.keys()]) await flush(k);
      return { valid, invalid, files };
    },
  };
}
