/**
 * @module
 * Loads the master dataset for a set of dates into DuckDB, deduplicated by `(topic, event_id)`
 * keeping the first copy by `(kafka_ts, partition, offset)` (docs/DESIGN.md "Dedup"). Files are
 * listed by directory, checked for Parquet magic bytes at both ends, then read with `read_parquet`
 * (hive partitioning, `union_by_name`); an unreadable file fails the run with its path.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { type ArchiveFile, listArchiveFiles } from "../shared/archive.ts";
import type { TopicKey } from "../shared/config.ts";
import { TOPIC_KEYS } from "../shared/config.ts";
import { lit } from "./jobs/_sql.ts";

/** An archive file that cannot be read; names the file. */
export class ArchiveReadError extends Error {
  constructor(readonly path: string, detail: string, options?: ErrorOptions) {
    super(`Unreadable archive file ${path}: ${detail}`, options);
    this.name = "ArchiveReadError";
  }
}

/**
 * Columns loaded into the `ev` table: those some view reads, plus `kafka_ts` and `event_id` for the
 * deduplication. The payload and the columns no view reads (country, duration_sec, position_sec,
 * progress_pct, notification_id, referrer, element) are not read at all.
 */
const COLUMNS = [
  "topic",
  "partition",
  "offset",
  "kafka_ts",
  "event_id",
  "user_id",
  "event_time",
  "date",
  "hour",
  "action",
  "session_id",
  "device",
  "assessment_id",
  "course_id",
  "score",
  "max_score",
  "video_id",
  "watched_sec",
  "channel",
  "event_type",
  "app_type",
  "page_url",
] as const;

const TYPES: Record<string, string> = {
  partition: "INTEGER",
  offset: "BIGINT",
  kafka_ts: "BIGINT",
  event_time: "BIGINT",
  hour: "INTEGER",
  score: "DOUBLE",
  max_score: "DOUBLE",
  duration_sec: "DOUBLE",
  watched_sec: "DOUBLE",
  position_sec: "DOUBLE",
  progress_pct: "DOUBLE",
};

const PARQUET_MAGIC = "PAR1";

/**
 * Checks that a file starts and ends with the Parquet magic bytes and has a plausible footer.
 * @throws {ArchiveReadError} naming the file
 */
export async function checkParquetFile(path: string): Promise<void> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (e) {
    throw new ArchiveReadError(path, (e as Error).message, { cause: e });
  }
  try {
    const size = (await f.stat()).size;
    if (size < 12) throw new ArchiveReadError(path, `too short for Parquet (${size} bytes)`);
    const head = new Uint8Array(4);
    const tail = new Uint8Array(8);
    await readFully(f, head, 0);
    await readFully(f, tail, size - 8);
    const dec = new TextDecoder();
    if (dec.decode(head) !== PARQUET_MAGIC || dec.decode(tail.subarray(4)) !== PARQUET_MAGIC) {
      throw new ArchiveReadError(path, "no Parquet magic bytes (truncated or not Parquet)");
    }
    const footer = new DataView(tail.buffer).getUint32(0, true);
    if (footer + 12 > size) {
      throw new ArchiveReadError(path, `footer length ${footer} exceeds file size ${size}`);
    }
  } finally {
    f.close();
  }
}

async function readFully(f: Deno.FsFile, buf: Uint8Array, at: number): Promise<void> {
  await f.seek(at, Deno.SeekMode.Start);
  let off = 0;
  while (off < buf.length) {
    const n = await f.read(buf.subarray(off));
    if (n === null) throw new Error(`unexpected end of file at ${at + off}`);
    off += n;
  }
}

/** SQL expression mapping the actual topic name to its logical key (NULL for unknown topics). */
export function topicKeySql(topics: Record<TopicKey, string>): string {
  return `CASE topic ${
    TOPIC_KEYS.map((k) => `WHEN ${lit(topics[k])} THEN ${lit(k)}`).join(" ")
  } END`;
}

/** What {@link loadEvents} read. */
export interface LoadStats {
  files: number;
  /** Rows read before deduplication. */
  rowsRead: number;
  /** Rows in `ev` after deduplication. */
  rows: number;
}

/**
 * Creates table `ev` in `conn` with the deduplicated events of `dates`: {@link COLUMNS} but `topic`,
 * plus `tk` (the logical topic) and `hs` (the hour start as TIMESTAMP).
 *
 * The files are read once, into memory, with only the columns some view needs. Duplicates are few
 * (re-sent events), so they are found by an integer aggregate on a 64-bit hash of the key, ranked
 * exactly by `(tk, event_id)` among the rows of those hashes only, and every copy but the first by
 * `(kafka_ts, partition, offset)` is deleted. Copies equal in all three are one Kafka record
 * archived twice (identical rows), so keeping any one of them is exact.
 * @throws {ArchiveReadError} when a file is unreadable
 */
export async function loadEvents(
  conn: DuckDBConnection,
  dataDir: string,
  options: { dates: readonly string[]; topics: Record<TopicKey, string> },
): Promise<LoadStats> {
  const names = Object.values(options.topics);
  const files: ArchiveFile[] = await listArchiveFiles(dataDir, {
    topics: names,
    dates: options.dates,
  });
  for (const f of files) await checkParquetFile(f.path);
  const cols = COLUMNS.filter((c) => c !== "topic");
  const hs = `epoch_ms(event_time - ((event_time % 3600000) + 3600000) % 3600000) AS hs`;
  if (files.length === 0) {
    const nulls = cols.map((c) => `NULL::${TYPES[c] ?? "VARCHAR"} AS "${c}"`).join(", ");
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ev AS
       SELECT NULL::VARCHAR AS tk, *, ${hs} FROM (SELECT ${nulls}) WHERE FALSE`,
    );
    return { files: 0, rowsRead: 0, rows: 0 };
  }
  const list = files.map((f) => lit(f.path)).join(", ");
  const source = `read_parquet([${list}], union_by_name = true, hive_partitioning = true,
    hive_types = {'topic': VARCHAR, 'date': VARCHAR, 'hour': INTEGER})`;
  const select = cols.map((c) => `CAST("${c}" AS ${TYPES[c] ?? "VARCHAR"}) AS "${c}"`).join(", ");
  let rowsRead: number;
  try {
    // Files are listed by topic directory, so every row has a known topic.
    await conn.run(`
      CREATE OR REPLACE TEMP TABLE ev AS
      SELECT *, ${hs} FROM (SELECT ${topicKeySql(options.topics)} AS tk, ${select} FROM ${source})
      WHERE tk IS NOT NULL`);
    rowsRead = await scalar(conn, "SELECT count(*) FROM ev");
    await conn.run(`
      DELETE FROM ev WHERE rowid IN (
        SELECT r FROM (
          SELECT rowid AS r, row_number() OVER (PARTITION BY tk, event_id
            ORDER BY kafka_ts, "partition", "offset") AS n
          FROM ev
          WHERE event_id IS NOT NULL AND hash(tk, event_id) IN (
            SELECT hash(tk, event_id) AS h FROM ev GROUP BY h HAVING count(*) > 1)
        ) WHERE n > 1)`);
  } catch (e) {
    throw await blame(conn, files, e as Error);
  }
  const rows = await scalar(conn, "SELECT count(*) FROM ev");
  return { files: files.length, rowsRead, rows };
}

async function scalar(conn: DuckDBConnection, sql: string): Promise<number> {
  const r = await conn.runAndReadAll(sql);
  return Number(r.getRows()[0][0]);
}

/** Finds which file made DuckDB fail (the message may not say), reading them one by one. */
async function blame(conn: DuckDBConnection, files: ArchiveFile[], e: Error): Promise<Error> {
  const named = files.find((f) => e.message.includes(f.path));
  if (named) return new ArchiveReadError(named.path, e.message, { cause: e });
  for (const f of files) {
    try {
      await conn.run(`SELECT * FROM read_parquet(${lit(f.path)}) LIMIT 0`);
      await conn.runAndReadAll(
        `SELECT count(*), max(length(payload)) FROM read_parquet(${lit(f.path)})`,
      );
    } catch (inner) {
      return new ArchiveReadError(f.path, (inner as Error).message, { cause: e });
    }
  }
  return new Error(`Cannot read the master dataset: ${e.message}`, { cause: e });
}
