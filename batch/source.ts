/**
 * @module
 * Loads the master dataset for a set of dates into DuckDB, deduplicated by `(topic, event_id)`
 * keeping the first copy by `(kafka_ts, partition, offset)` (docs/DESIGN.md "Dedup"). Files are
 * listed by directory, checked for Parquet magic bytes at both ends, then read with `read_parquet`
 * (hive partitioning, `union_by_name`); an unreadable file fails the run with its path.
 */
import type { DuckDBConnection, DuckDBMaterializedResult } from "@duckdb/node-api";
import duckdb from "@duckdb/node-bindings";
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
 * Columns read of every topic: the dedup key and order, and what views read of any event (grain
 * tables keep only what they group by: {@link GRAIN_TOPICS}). The archive's `date` and `hour` (of
 * the event time) are not read: views take them from `hs`.
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

/**
 * Columns stored as an ENUM of their distinct values when there are at most {@link ENUM_LIMIT}:
 * the clickstream pages, which the sessions collect into lists; a list of small integers is built,
 * sorted and cut at half the cost of a list of URLs. Above the limit they stay VARCHAR. The ENUM's
 * values are declared in VARCHAR order, so it compares like the text.
 */
const ENUM_COLUMNS: Readonly<Partial<Record<TopicKey, readonly string[]>>> = {
  CLICKSTREAM: ["page_url"],
};

/** Most distinct values of an {@link ENUM_COLUMNS} column stored as an ENUM. */
export const ENUM_LIMIT = 65_536;

/** The ENUM types {@link loadEvents} may create (drop them after the tables that use them). */
export function enumTypes(): string[] {
  return Object.entries(ENUM_COLUMNS).flatMap(([key, cols]) =>
    (cols ?? []).map((c) => enumType(key as TopicKey, c))
  );
}

function enumType(key: TopicKey, column: string): string {
  return `${topicTable(key)}_${column}`;
}

/** The table holding one topic's deduplicated events. */
export function topicTable(key: TopicKey): string {
  return `ev_${key.toLowerCase()}`;
}

const PARQUET_MAGIC = "PAR1";

/**
 * Checks that a file starts and ends with the Parquet magic bytes and has a plausible footer.
 * Synchronous: a day has thousands of small files, and the check is a few system calls each
 * (≈ 10 µs; the async calls cost ten times that).
 * @throws {ArchiveReadError} naming the file
 */
export function checkParquetFile(path: string): void {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { read: true });
  } catch (e) {
    throw new ArchiveReadError(path, (e as Error).message, { cause: e });
  }
  try {
    const size = f.statSync().size;
    if (size < 12) throw new ArchiveReadError(path, `too short for Parquet (${size} bytes)`);
    const head = new Uint8Array(4);
    const tail = new Uint8Array(8);
    readFully(f, head, 0);
    readFully(f, tail, size - 8);
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

function readFully(f: Deno.FsFile, buf: Uint8Array, at: number): void {
  f.seekSync(at, Deno.SeekMode.Start);
  let off = 0;
  while (off < buf.length) {
    const n = f.readSync(buf.subarray(off));
    if (n === null) throw new Error(`unexpected end of file at ${at + off}`);
    off += n;
  }
}

/** What {@link loadEvents} read. */
export interface LoadStats {
  files: number;
  /** Events read before deduplication. */
  rowsRead: number;
  /** Events in `ev` after deduplication. */
  rows: number;
}

/** How a {@link GRAIN_TOPICS} topic is aggregated. */
export interface Grain {
  /** Columns not grouped by besides the dedup key and order and the time (summarised below). */
  drop: readonly string[];
  /** Further aggregates (SQL, with aliases), or "". */
  aggregates: string;
}

/**
 * Topics whose table holds one row per distinct value of the columns the views group by (`user_id`,
 * `hs` and the topic's own columns but {@link Grain.drop}) instead of one row per event, with `n`
 * (INTEGER: the deduplicated events it stands for), `last_ms` (their latest event time) and the
 * topic's further aggregates. No view needs these topics' event order, and their rows are 3–16
 * times fewer. VIDEO: one row per user, video, course and hour (5.1 M events → 0.32 M rows) with
 * `plays`, `pauses` and `completes` (INTEGER) and `watched`, the exact sum (DECIMAL(38, 12), as
 * `orderedSum`) of the heartbeats' `watched_sec`; APP_EVENTS: per user, action, session, event
 * type, app type and hour (1.9 M → 0.52 M); NOTIFICATION: per user, channel and hour with the
 * count of each action (0.90 M → 0.39 M).
 */
export const GRAIN_TOPICS: Readonly<Partial<Record<TopicKey, Grain>>> = {
  VIDEO: {
    drop: ["action", "watched_sec"],
    aggregates: `count(*) FILTER (WHERE action = 'play')::INTEGER AS plays,
      count(*) FILTER (WHERE action = 'pause')::INTEGER AS pauses,
      count(*) FILTER (WHERE action = 'complete')::INTEGER AS completes,
      sum(CAST(watched_sec AS DECIMAL(38, 12))) FILTER (WHERE action = 'heartbeat') AS watched`,
  },
  APP_EVENTS: { drop: [], aggregates: "" },
  NOTIFICATION: {
    drop: ["action"],
    aggregates: ["sent", "delivered", "opened", "clicked", "failed"]
      .map((a) => `count(*) FILTER (WHERE action = '${a}')::INTEGER AS ${a}`).join(", "),
  },
};

/** Columns a grain table never groups by: the dedup key and order, the time. */
const NOT_GRAIN = new Set(["partition", "offset", "kafka_ts", "event_id", "event_time"]);

/**
 * Loads the deduplicated events of `dates`: one table per topic ({@link topicTable}) and view `ev`,
 * all topics' tables with `tk` (the logical topic), `n` (events per row: 1, or the grain count of
 * {@link GRAIN_TOPICS}) and `last_ms` (latest event time of the row), NULL for the columns a topic
 * does not have (a filter on `tk` reads only that topic's table). Event tables hold the common
 * columns, the topic's own ({@link TOPIC_COLUMNS}) and `hs` (the hour start as TIMESTAMP); `ev`
 * leaves out their `event_id` and `kafka_ts`.
 *
 * Only the columns some view reads are read. Duplicates are few (re-sent events), so they are found
 * without a hash table with an entry per event: the 32 high bits of every `event_id`'s hash go
 * through a radix sort ({@link repeatedHashes}), and only the rows of the values occurring more
 * than once are ranked, exactly by `event_id` and then by `(kafka_ts, partition, offset)` (copies
 * equal in all three are one Kafka record archived twice: identical rows, any one is kept).
 * - Event tables are stored whole (with `event_id` and `kafka_ts`), then the later copies are
 *   deleted in place ({@link deleteDuplicates}).
 * - {@link GRAIN_TOPICS} are read twice: once for the duplicates ({@link noteDuplicates}), once to
 *   aggregate every row but the later copies (an anti-join on {@link ROW_KEY}); their events are
 *   never stored one by one.
 * @throws {ArchiveReadError} when a file is unreadable
 */
export async function loadEvents(
  conns: readonly DuckDBConnection[],
  dataDir: string,
  options: {
    dates: readonly string[];
    topics: Record<TopicKey, string>;
    /** Most distinct values of a column stored as an ENUM; default {@link ENUM_LIMIT}. */
    enumLimit?: number;
  },
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
    for (const f of files) checkParquetFile(f.path);
    topics.push({ key, cols: [...COMMON, ...own], files });
  }
  // Both reads of a file parse its footer once.
  await conns[0].run("SET GLOBAL parquet_metadata_cache = true");
  const stats: LoadStats = { files: 0, rowsRead: 0, rows: 0 };
  // Topics on several connections at once (the biggest first): DuckDB reads each file list's
  // schemas and footers on one thread, so a second query keeps the other core busy meanwhile.
  const queue = [...topics].sort((a, b) => b.files.length - a.files.length);
  await inParallel(conns, queue, async (conn, { key, cols, files }) => {
    const table = topicTable(key);
    const grain = GRAIN_TOPICS[key];
    if (files.length === 0) {
      const nulls = cols.map((c) => `NULL::${TYPES[c] ?? "VARCHAR"} AS "${c}"`).join(", ");
      const empty = `(SELECT *, ${hs} FROM (SELECT ${nulls}) WHERE FALSE)`;
      await conn.run(`CREATE OR REPLACE TABLE ${table} AS ${tableSql(cols, grain, empty)}`);
      return;
    }
    const list = files.map((f) => lit(f.path)).join(", ");
    const source = `read_parquet([${list}], union_by_name = true, hive_partitioning = true,
      hive_types = {'topic': VARCHAR, 'date': VARCHAR, 'hour': INTEGER})`;
    let dropped: number;
    try {
      const types: Record<string, string> = {};
      for (const c of ENUM_COLUMNS[key] ?? []) {
        const type = enumType(key, c);
        if (await createEnum(conn, source, c, type, options.enumLimit ?? ENUM_LIMIT)) {
          types[c] = type;
        }
      }
      const typed = (c: string) => types[c] ? `CAST(${cast(c)} AS ${types[c]})` : cast(c);
      const read = (columns: readonly string[]) =>
        `SELECT ${columns.map((c) => `${typed(c)} AS "${c}"`).join(", ")}`;
      if (grain === undefined) {
        // Stored whole, then the later copies are deleted.
        await conn.run(`
          CREATE OR REPLACE TABLE ${table} AS
          SELECT *, ${hs} FROM (${read(cols)} FROM ${source})`);
        dropped = await deleteDuplicates(conn, table);
      } else {
        // Aggregated while read, so the later copies are left out of the read.
        const drops = `${table}_dups`;
        await noteDuplicates(conn, source, drops);
        const kept = cols.filter((c) => c !== "event_id" && c !== "kafka_ts");
        const rows = `(SELECT *, ${hs} FROM (${read(kept)}, ${ROW_KEY} AS k FROM ${source})
          ANTI JOIN ${drops} USING (k))`;
        await conn.run(`CREATE OR REPLACE TABLE ${table} AS ${tableSql(cols, grain, rows)}`);
        dropped = await scalar(conn, `SELECT count(*) FROM ${drops}`);
        await conn.run(`DROP TABLE ${drops}`);
      }
    } catch (e) {
      throw await blame(conn, files, e as Error);
    }
    const events = await scalar(
      conn,
      `SELECT ${grain === undefined ? "count(*)" : "coalesce(sum(n), 0)"} FROM ${table}`,
    );
    // Not `+= await`: that would add to a value read before the wait.
    stats.files += files.length;
    stats.rows += events;
    stats.rowsRead += events + dropped;
  });
  const branches = topics.map(({ key }) =>
    GRAIN_TOPICS[key] !== undefined
      ? `SELECT ${lit(key)} AS tk, * FROM ${topicTable(key)}`
      : `SELECT ${lit(key)} AS tk, * EXCLUDE (event_id, kafka_ts), 1::INTEGER AS n,
           event_time AS last_ms
         FROM ${topicTable(key)}`
  );
  await conns[0].run(`CREATE OR REPLACE VIEW ev AS ${branches.join(" UNION ALL BY NAME ")}`);
  return stats;
}

/**
 * The SELECT creating a topic's table from `rows` (its events, with `hs`): the events themselves,
 * or with `grain` (a {@link GRAIN_TOPICS} entry) one row per distinct value of the grain columns.
 */
function tableSql(cols: readonly string[], grain: Grain | undefined, rows: string): string {
  if (grain === undefined) return `SELECT * FROM ${rows}`;
  const keys = [...cols.filter((c) => !NOT_GRAIN.has(c) && !grain.drop.includes(c)), "hs"]
    .map((c) => `"${c}"`).join(", ");
  return `SELECT ${keys}, count(*)::INTEGER AS n, max(event_time) AS last_ms
      ${grain.aggregates ? `, ${grain.aggregates}` : ""}
    FROM ${rows} GROUP BY ${keys}`;
}

/** A column of the archive as the type the views read it with. */
function cast(column: string): string {
  return `CAST("${column}" AS ${TYPES[column] ?? "VARCHAR"})`;
}

/**
 * Creates ENUM type `type` of the distinct values of `column` in `source` when there are at most
 * `limit`; says whether it did.
 */
async function createEnum(
  conn: DuckDBConnection,
  source: string,
  column: string,
  type: string,
  limit: number,
): Promise<boolean> {
  const values = `${type}_values`;
  await conn.run(`DROP TYPE IF EXISTS ${type}`);
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE ${values} AS
    SELECT DISTINCT ${cast(column)} AS v FROM ${source} WHERE "${column}" IS NOT NULL`);
  const n = await scalar(conn, `SELECT count(*) FROM ${values}`);
  if (n <= limit) {
    await conn.run(`CREATE TYPE ${type} AS ENUM (SELECT v FROM ${values} ORDER BY v)`);
  }
  await conn.run(`DROP TABLE ${values}`);
  return n <= limit;
}

/**
 * A row of a `read_parquet` of a file list as one BIGINT: its file's index in the list and its row
 * number in the file.
 */
const ROW_KEY = "(file_index << 32) + file_row_number";

/**
 * Creates temp table `drops(k)`: the {@link ROW_KEY} of every copy of an event but the first in
 * `source` (a `read_parquet`; the same file list as the reads that drop them). The 32 high bits of each
 * `event_id`'s hash are read (one column, no table) and those occurring more than once found
 * ({@link repeatedHashes}); only the rows of those are ranked, exactly by `event_id` and then by
 * `(kafka_ts, partition, offset)`.
 */
async function noteDuplicates(
  conn: DuckDBConnection,
  source: string,
  drops: string,
): Promise<void> {
  const hashes = await repeatedHashTable(conn, source, `${drops}_h`);
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE ${drops} AS ${laterCopies(source, ROW_KEY, hashes)}`,
  );
  await conn.run(`DROP TABLE ${hashes}`);
}

/**
 * Deletes from `table` (a topic's events, with `event_id`, `kafka_ts`, `partition` and `offset`)
 * every copy of an event but the first, found as in {@link noteDuplicates}; returns how many.
 */
async function deleteDuplicates(conn: DuckDBConnection, table: string): Promise<number> {
  const hashes = await repeatedHashTable(conn, table, `${table}_h`);
  const r = await conn.run(
    `DELETE FROM ${table} WHERE rowid IN (${laterCopies(table, "rowid", hashes)})`,
  );
  await conn.run(`DROP TABLE ${hashes}`);
  return Number(r.rowsChanged);
}

/**
 * The `key` (column `k`) of every row of `from` that is a later copy of an event: among the rows
 * whose {@link HASH32} is in `hashes`, ranked by exact `event_id`, then `(kafka_ts, partition,
 * offset)`; all but the first of each id.
 */
function laterCopies(from: string, key: string, hashes: string): string {
  return `
    SELECT k FROM (
      SELECT ${key} AS k, row_number() OVER (PARTITION BY event_id
        ORDER BY ${cast("kafka_ts")}, ${cast("partition")}, ${cast("offset")}) AS copy
      FROM ${from}
      WHERE event_id IS NOT NULL AND ${HASH32} IN (SELECT h FROM ${hashes})
    ) WHERE copy > 1`;
}

/** The 32 high bits of the hash of `event_id`. */
const HASH32 = "CAST(hash(event_id) >> 32 AS UINTEGER)";

/**
 * Creates temp table `name(h UINTEGER)` of the {@link HASH32} values occurring more than once in
 * `from` (a table or `read_parquet`; one column read, nothing stored per event), found by
 * {@link repeatedHashes}; returns `name`.
 */
async function repeatedHashTable(
  conn: DuckDBConnection,
  from: string,
  name: string,
): Promise<string> {
  const repeated = repeatedHashes(
    await conn.run(`SELECT ${HASH32} AS h FROM ${from} WHERE event_id IS NOT NULL`),
  );
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${name} (h UINTEGER)`);
  const app = await conn.createAppender(name, "main", "temp");
  for (const h of repeated) {
    app.appendUInteger(h);
    app.endRow();
  }
  app.closeSync();
  return name;
}

/**
 * The values occurring more than once in a result of one UINTEGER column without NULLs: the 32
 * high bits of the hashes of a topic's event ids, so a superset of the duplicated ids' (an exact
 * comparison of the ids follows). A radix sort in place of a DuckDB hash aggregate: two passes of
 * 16 bits over the values are cheaper than a hash table with an entry per event.
 */
export function repeatedHashes(result: DuckDBMaterializedResult): Uint32Array {
  // Copied straight from the result's vectors (node-bindings): per-item reads through the
  // node-api vector classes cost as much as the sort.
  let a = new Uint32Array(Number(result.rowCount));
  let n = 0;
  for (let c = 0; c < result.chunkCount; c++) {
    const chunk = result.getChunk(c);
    const rows = chunk.rowCount;
    const column = duckdb.data_chunk_get_vector(chunk.chunk, 0);
    const bytes = duckdb.vector_get_data(column, rows * 4);
    a.set(new Uint32Array(bytes.buffer, bytes.byteOffset, rows), n);
    n += rows;
  }
  let b = new Uint32Array(n);
  const count = new Uint32Array(65537);
  for (const shift of [0, 16]) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[((a[i] >>> shift) & 0xffff) + 1]++;
    for (let d = 1; d <= 65536; d++) count[d] += count[d - 1];
    for (let i = 0; i < n; i++) b[count[(a[i] >>> shift) & 0xffff]++] = a[i];
    [a, b] = [b, a];
  }
  const out: number[] = [];
  for (let i = 1; i < n; i++) {
    if (a[i] === a[i - 1] && (out.length === 0 || out[out.length - 1] !== a[i])) out.push(a[i]);
  }
  return Uint32Array.from(out);
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
