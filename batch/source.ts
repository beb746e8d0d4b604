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
 * Columns every topic's table has: the dedup key and order, and what views read of any event. The
 * archive's `date` and `hour` (of the event time) are not kept: views take them from `hs`.
 */
const COMMON = [
  "partition",
  "offset",
  "kafka_ts",
  "event_id",
  "user_id",
  "event_time",
  "action",
] as const;

/**
 * The further columns some view reads of each topic's events; `null`: the topic is not read at all
 * (no view counts CDC events).
 */
export const TOPIC_COLUMNS: Readonly<Record<TopicKey, readonly string[] | null>> = {
  AUTH: ["device"],
  ASSESSMENT: ["assessment_id", "course_id", "score", "max_score"],
  VIDEO: ["video_id", "course_id", "watched_sec"],
  COURSE: ["course_id"],
  PROFILE: [],
  NOTIFICATION: ["channel"],
  APP_EVENTS: ["session_id", "event_type", "app_type"],
  CLICKSTREAM: ["session_id", "page_url"],
  CDC: null,
};

const TYPES: Record<string, string> = {
  partition: "INTEGER",
  offset: "BIGINT",
  kafka_ts: "BIGINT",
  event_time: "BIGINT",
  score: "DOUBLE",
  max_score: "DOUBLE",
  watched_sec: "DOUBLE",
};

/** The table holding one topic's deduplicated events. */
export function topicTable(key: TopicKey): string {
  return `ev_${key.toLowerCase()}`;
}

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

/** Checks files 32 at a time; throws the error of the first bad file in listing order. */
async function checkAll(files: readonly ArchiveFile[]): Promise<void> {
  for (let i = 0; i < files.length; i += 32) {
    const done = await Promise.allSettled(
      files.slice(i, i + 32).map((f) => checkParquetFile(f.path)),
    );
    const bad = done.find((r) => r.status === "rejected");
    if (bad) throw (bad as PromiseRejectedResult).reason;
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

/** What {@link loadEvents} read. */
export interface LoadStats {
  files: number;
  /** Rows read before deduplication. */
  rowsRead: number;
  /** Rows in `ev` after deduplication. */
  rows: number;
}

/**
 * Loads the deduplicated events of `dates`: one table per topic ({@link topicTable}) with the
 * common columns and the topic's own ({@link TOPIC_COLUMNS}) plus `hs` (the hour start as
 * TIMESTAMP), and view `ev`, all topics' tables with `tk` (the logical topic) and NULL for the
 * columns a topic does not have (a filter on `tk` reads only that topic's table).
 *
 * Each topic's files are read once, into memory, with only the columns some view needs. Duplicates
 * are few (re-sent events), so they are found by an integer aggregate on a 64-bit hash of
 * `event_id`, ranked exactly by `event_id` among the rows of those hashes only, and every copy but
 * the first by `(kafka_ts, partition, offset)` is deleted. Copies equal in all three are one Kafka
 * record archived twice (identical rows), so keeping any one of them is exact.
 * @throws {ArchiveReadError} when a file is unreadable
 */
export async function loadEvents(
  conns: readonly DuckDBConnection[],
  dataDir: string,
  options: { dates: readonly string[]; topics: Record<TopicKey, string> },
): Promise<LoadStats> {
  const hs = `epoch_ms(event_time - ((event_time % 3600000) + 3600000) % 3600000) AS hs`;
  const topics: { key: TopicKey; cols: string[]; files: ArchiveFile[] }[] = [];
  for (const key of TOPIC_KEYS) {
    const own = TOPIC_COLUMNS[key];
    if (own === null) continue;
    const files = await listArchiveFiles(dataDir, {
      topics: [options.topics[key]],
      dates: options.dates,
    });
    await checkAll(files);
    topics.push({ key, cols: [...COMMON, ...own], files });
  }
  const stats: LoadStats = { files: 0, rowsRead: 0, rows: 0 };
  // Topics on several connections at once (the biggest first): DuckDB reads each file list's
  // schemas and footers on one thread, so a second query keeps the other core busy meanwhile.
  const queue = [...topics].sort((a, b) => b.files.length - a.files.length);
  await inParallel(conns, queue, async (conn, { key, cols, files }) => {
    const table = topicTable(key);
    if (files.length === 0) {
      const nulls = cols.map((c) => `NULL::${TYPES[c] ?? "VARCHAR"} AS "${c}"`).join(", ");
      await conn.run(
        `CREATE OR REPLACE TABLE ${table} AS SELECT *, ${hs} FROM (SELECT ${nulls}) WHERE FALSE`,
      );
      return;
    }
    const list = files.map((f) => lit(f.path)).join(", ");
    const source = `read_parquet([${list}], union_by_name = true, hive_partitioning = true,
      hive_types = {'topic': VARCHAR, 'date': VARCHAR, 'hour': INTEGER})`;
    const select = cols.map((c) => `CAST("${c}" AS ${TYPES[c] ?? "VARCHAR"}) AS "${c}"`).join(", ");
    try {
      await conn.run(`
        CREATE OR REPLACE TABLE ${table} AS
        SELECT *, ${hs} FROM (SELECT ${select} FROM ${source})`);
      const read = await scalar(conn, `SELECT count(*) FROM ${table}`);
      stats.rowsRead += read; // not `+= await`: that would add to a value read before the wait
      await conn.run(`
        DELETE FROM ${table} WHERE rowid IN (
          SELECT r FROM (
            SELECT rowid AS r, row_number() OVER (PARTITION BY event_id
              ORDER BY kafka_ts, "partition", "offset") AS n
            FROM ${table}
            WHERE event_id IS NOT NULL AND hash(event_id) IN (
              SELECT hash(event_id) AS h FROM ${table} GROUP BY h HAVING count(*) > 1)
          ) WHERE n > 1)`);
    } catch (e) {
      throw await blame(conn, files, e as Error);
    }
    stats.files += files.length;
    const rows = await scalar(conn, `SELECT count(*) FROM ${table}`);
    stats.rows += rows;
  });
  const branches = topics.map(({ key }) =>
    `SELECT ${lit(key)} AS tk, * EXCLUDE (kafka_ts, event_id) FROM ${topicTable(key)}`
  );
  await conns[0].run(`CREATE OR REPLACE VIEW ev AS ${branches.join(" UNION ALL BY NAME ")}`);
  return stats;
}

/**
 * Runs `work` for every item, each connection taking the next item when it is done; waits for all
 * started work, then throws the first error (in item order) if any.
 */
export async function inParallel<T>(
  conns: readonly DuckDBConnection[],
  items: readonly T[],
  work: (conn: DuckDBConnection, item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: { index: number; error: unknown }[] = [];
  await Promise.all(conns.map(async (conn) => {
    while (next < items.length && errors.length === 0) {
      const index = next++;
      try {
        await work(conn, items[index], index);
      } catch (error) {
        errors.push({ index, error });
      }
    }
  }));
  if (errors.length > 0) throw errors.sort((a, b) => a.index - b.index)[0].error;
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
