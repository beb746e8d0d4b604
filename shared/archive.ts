/**
 * @module
 * The master dataset (docs/DESIGN.md "Master dataset columns"): one row per valid event, stored as
 * Parquet under `DATA_DIR/master/topic=<kafka topic>/date=<YYYY-MM-DD>/hour=<HH>/` in files named
 * `p<partition>-<firstOffset>-<lastOffset>.parquet`. Shared by the archiver (writes), the batch
 * layer (reads with DuckDB) and the tests (write directly, read back).
 *
 * The `topic` column and directory hold the actual Kafka topic name (after `TOPIC_<NAME>`
 * renames); `payload` keeps the original JSON text so extra fields survive.
 */
import * as pw from "parquet-wasm";
import {
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  Schema,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  type Vector,
} from "apache-arrow";
import type { ValidEvent } from "./events.ts";
import { isoDate } from "./time.ts";

/** Folder of the master dataset below `DATA_DIR`. */
export const MASTER_DIR = "master";

/** One archived event. Optional typed fields are null when the event has no such field. */
export interface ArchiveRow {
  topic: string;
  partition: number;
  offset: number;
  /** Kafka message timestamp (ms). */
  kafkaTs: number;
  eventId: string;
  userId: string | null;
  /** Event time, epoch ms UTC. */
  eventTime: number;
  /** UTC date of the event time, `YYYY-MM-DD`. */
  date: string;
  /** UTC hour of the event time, 0..23. */
  hour: number;
  action: string | null;
  sessionId: string | null;
  device: string | null;
  country: string | null;
  assessmentId: string | null;
  courseId: string | null;
  score: number | null;
  maxScore: number | null;
  durationSec: number | null;
  videoId: string | null;
  watchedSec: number | null;
  positionSec: number | null;
  progressPct: number | null;
  notificationId: string | null;
  channel: string | null;
  eventType: string | null;
  appType: string | null;
  pageUrl: string | null;
  referrer: string | null;
  element: string | null;
  /** The original message value (null for a CDC tombstone). */
  payload: string | null;
}

type ColumnType = "utf8" | "int32" | "int64" | "float64";

/** A master dataset column: Parquet/SQL name, the {@link ArchiveRow} field, type, nullability. */
export interface ArchiveColumn {
  name: string;
  field: keyof ArchiveRow;
  type: ColumnType;
  nullable: boolean;
}

const col = (name: string, field: keyof ArchiveRow, type: ColumnType, nullable = true) => ({
  name,
  field,
  type,
  nullable,
});

/** Every column of the master dataset, in file order. */
export const ARCHIVE_COLUMNS: readonly ArchiveColumn[] = [
  col("topic", "topic", "utf8", false),
  col("partition", "partition", "int32", false),
  col("offset", "offset", "int64", false),
  col("kafka_ts", "kafkaTs", "int64", false),
  col("event_id", "eventId", "utf8", false),
  col("user_id", "userId", "utf8"),
  col("event_time", "eventTime", "int64", false),
  col("date", "date", "utf8", false),
  col("hour", "hour", "int32", false),
  col("action", "action", "utf8"),
  col("session_id", "sessionId", "utf8"),
  col("device", "device", "utf8"),
  col("country", "country", "utf8"),
  col("assessment_id", "assessmentId", "utf8"),
  col("course_id", "courseId", "utf8"),
  col("score", "score", "float64"),
  col("max_score", "maxScore", "float64"),
  col("duration_sec", "durationSec", "float64"),
  col("video_id", "videoId", "utf8"),
  col("watched_sec", "watchedSec", "float64"),
  col("position_sec", "positionSec", "float64"),
  col("progress_pct", "progressPct", "float64"),
  col("notification_id", "notificationId", "utf8"),
  col("channel", "channel", "utf8"),
  col("event_type", "eventType", "utf8"),
  col("app_type", "appType", "utf8"),
  col("page_url", "pageUrl", "utf8"),
  col("referrer", "referrer", "utf8"),
  col("element", "element", "utf8"),
  col("payload", "payload", "utf8"),
];

/** Kafka coordinates and raw text of an event being archived. */
export interface ArchiveMeta {
  /** Actual Kafka topic name. */
  topic: string;
  partition: number;
  offset: number;
  kafkaTs: number;
  /** Message value as text (null for a tombstone). */
  raw: string | null;
  /** Message key as text (CDC: becomes `user_id`). */
  key: string | null;
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * The master dataset row of a valid event. CDC rows get `event_id` =
 * `<table>:<ts_ms>:<partition>:<offset>` (a tombstone: `:<kafka_ts>:<partition>:<offset>`) and
 * `user_id` = the message key.
 */
export function archiveRow(event: ValidEvent, meta: ArchiveMeta): ArchiveRow {
  const t = event.eventTime;
  const base = {
    topic: meta.topic,
    partition: meta.partition,
    offset: meta.offset,
    kafkaTs: meta.kafkaTs,
    eventTime: t,
    date: isoDate(t),
    hour: new Date(t).getUTCHours(),
    payload: meta.raw,
  };
  if (event.topic === "CDC") {
    const p = event.data;
    const eventId = p
      ? `${p.source.table}:${p.ts_ms}:${meta.partition}:${meta.offset}`
      : `:${meta.kafkaTs}:${meta.partition}:${meta.offset}`;
    return { ...base, ...EMPTY, eventId, userId: meta.key, action: p ? p.op : null };
  }
  const d = event.data as Record<string, unknown>;
  return {
    ...base,
    eventId: String(d.event_id),
    userId: String(d.user_id),
    action: str(d.action),
    sessionId: str(d.session_id),
    device: str(d.device),
    country: str(d.country),
    assessmentId: str(d.assessment_id),
    courseId: str(d.course_id),
    score: num(d.score),
    maxScore: num(d.max_score),
    durationSec: num(d.duration_sec),
    videoId: str(d.video_id),
    watchedSec: num(d.watched_sec),
    positionSec: num(d.position_sec),
    progressPct: num(d.progress_pct),
    notificationId: str(d.notification_id),
    channel: str(d.channel),
    eventType: str(d.event_type),
    appType: str(d.app_type),
    pageUrl: str(d.page_url),
    referrer: str(d.referrer),
    element: str(d.element),
  };
}

const EMPTY = {
  action: null,
  sessionId: null,
  device: null,
  country: null,
  assessmentId: null,
  courseId: null,
  score: null,
  maxScore: null,
  durationSec: null,
  videoId: null,
  watchedSec: null,
  positionSec: null,
  progressPct: null,
  notificationId: null,
  channel: null,
  eventType: null,
  appType: null,
  pageUrl: null,
  referrer: null,
  element: null,
} as const;

/** Rough in-memory/encoded size of a row, for size-based rolling. */
export function approxRowBytes(row: ArchiveRow): number {
  return 160 + (row.payload?.length ?? 0) + row.eventId.length;
}

const ARROW_TYPES = {
  utf8: () => new Utf8(),
  int32: () => new Int32(),
  int64: () => new Int64(),
  float64: () => new Float64(),
};

/** The Arrow schema of the master dataset. */
export const ARCHIVE_SCHEMA = new Schema(
  ARCHIVE_COLUMNS.map((c) => new Field(c.name, ARROW_TYPES[c.type](), c.nullable)),
);

/** Options of {@link encodeArchive}. */
export interface EncodeOptions {
  /** Rows per Parquet row group; default 65536. */
  rowGroupSize?: number;
}

const encoder = new TextEncoder();

/** A nullable column as Arrow data without per-value builders (the hot path of the archiver). */
function columnVector(c: ArchiveColumn, rows: readonly ArchiveRow[]): Vector {
  const n = rows.length;
  if (c.type === "int64") {
    const a = new BigInt64Array(n);
    for (let i = 0; i < n; i++) a[i] = BigInt(rows[i][c.field] as number);
    return makeVector(a);
  }
  if (c.type === "int32") {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = rows[i][c.field] as number;
    return makeVector(a);
  }
  const valid = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  if (c.type === "float64") {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = rows[i][c.field] as number | null;
      if (v === null) nulls++;
      else {
        a[i] = v;
        valid[i >> 3] |= 1 << (i & 7);
      }
    }
    return makeVector(makeData({
      type: new Float64(),
      length: n,
      nullCount: nulls,
      nullBitmap: nulls > 0 ? valid : undefined,
      data: a,
    }));
  }
  let cap = 0;
  for (let i = 0; i < n; i++) cap += ((rows[i][c.field] as string | null)?.length ?? 0) * 3;
  const data = new Uint8Array(cap);
  const offsets = new Int32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = rows[i][c.field] as string | null;
    if (v === null) nulls++;
    else {
      pos += encoder.encodeInto(v, data.subarray(pos)).written;
      valid[i >> 3] |= 1 << (i & 7);
    }
    offsets[i + 1] = pos;
  }
  return makeVector(makeData({
    type: new Utf8(),
    length: n,
    nullCount: nulls,
    nullBitmap: nulls > 0 ? valid : undefined,
    valueOffsets: offsets,
    data: data.subarray(0, pos),
  }));
}

/**
 * Encodes rows as a Parquet file (snappy) with the {@link ARCHIVE_COLUMNS} schema.
 * @throws {RangeError} when `rows` is empty
 */
export function encodeArchive(
  rows: readonly ArchiveRow[],
  options: EncodeOptions = {},
): Uint8Array {
  if (rows.length === 0) throw new RangeError("Cannot encode an archive file of 0 rows");
  const vectors: Record<string, Vector> = {};
  for (const c of ARCHIVE_COLUMNS) vectors[c.name] = columnVector(c, rows);
  const table = new Table(vectors);
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.SNAPPY)
    .setMaxRowGroupSize(options.rowGroupSize ?? 65_536)
    .build();
  return pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, "stream")), props);
}

/**
 * Decodes a master dataset file back to rows (tests and tools; the batch layer reads with DuckDB).
 * @throws {Error} when the bytes are not a readable Parquet file
 */
export function decodeArchive(bytes: Uint8Array): ArchiveRow[] {
  const table = tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  const cols = ARCHIVE_COLUMNS.map((c) => ({ c, v: table.getChild(c.name) }));
  const out: ArchiveRow[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (const { c, v } of cols) {
      const x = v ? v.get(i) : null;
      row[c.field] = typeof x === "bigint" ? Number(x) : x ?? null;
    }
    out.push(row as unknown as ArchiveRow);
  }
  return out;
}

/** The directory of one (topic, date, hour) of the master dataset. */
export function archiveDir(dataDir: string, topic: string, date: string, hour: number): string {
  return `${dataDir}/${MASTER_DIR}/topic=${topic}/date=${date}/hour=${
    String(hour).padStart(2, "0")
  }`;
}

/** `p<partition>-<firstOffset>-<lastOffset>.parquet` */
export function archiveFileName(partition: number, first: number, last: number): string {
  return `p${partition}-${first}-${last}.parquet`;
}

const FILE_RE = /^p(\d+)-(\d+)-(\d+)\.parquet$/;

/** Partition and offset range of an archive file name; undefined for other names. */
export function parseArchiveFileName(
  name: string,
): { partition: number; first: number; last: number } | undefined {
  const m = FILE_RE.exec(name);
  return m ? { partition: Number(m[1]), first: Number(m[2]), last: Number(m[3]) } : undefined;
}

/** Prefix of temporary files; never matched by readers (they read `*.parquet` only). */
export const TEMP_PREFIX = ".tmp-";

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** fsync the file before the rename; default true. */
  fsync?: boolean;
}

/**
 * Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so readers see
 * the whole file or none.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) : ".";
  const base = path.slice(slash + 1);
  const tmp = `${dir}/${TEMP_PREFIX}${base}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}`;
  const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    if (options.fsync !== false) await f.syncData();
  } finally {
    f.close();
  }
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** One file of the master dataset. */
export interface ArchiveFile {
  path: string;
  topic: string;
  date: string;
  hour: number;
  partition: number;
  first: number;
  last: number;
}

/** Options of {@link listArchiveFiles}. */
export interface ListOptions {
  /** Only these Kafka topic names; default all. */
  topics?: readonly string[];
  /** Only these dates; default all. */
  dates?: readonly string[];
  /** Only this partition. */
  partition?: number;
  /** Also list temporary files (as `path` only, partition −1); default false. */
  includeTemp?: boolean;
}

async function dirNames(path: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) {
      if (e.isDirectory && e.name.startsWith(prefix)) out.push(e.name.slice(prefix.length));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/** Lists master dataset files, sorted by topic, date, hour, partition, first offset. */
export async function listArchiveFiles(
  dataDir: string,
  options: ListOptions = {},
): Promise<ArchiveFile[]> {
  const root = `${dataDir}/${MASTER_DIR}`;
  const topics = options.topics ?? await dirNames(root, "topic=");
  const out: ArchiveFile[] = [];
  for (const topic of topics) {
    const dates = options.dates ?? await dirNames(`${root}/topic=${topic}`, "date=");
    for (const date of dates) {
      const dateDir = `${root}/topic=${topic}/date=${date}`;
      for (const h of await dirNames(dateDir, "hour=")) {
        const dir = `${dateDir}/hour=${h}`;
        for await (const e of Deno.readDir(dir)) {
          if (!e.isFile) continue;
          const parsed = parseArchiveFileName(e.name);
          if (
            parsed && (options.partition === undefined || parsed.partition === options.partition)
          ) {
            out.push({ path: `${dir}/${e.name}`, topic, date, hour: Number(h), ...parsed });
          } else if (options.includeTemp && e.name.startsWith(TEMP_PREFIX)) {
            const p = FILE_RE.exec(
              e.name.slice(TEMP_PREFIX.length).replace(/\.\d+\.[0-9a-f]+$/, ""),
            );
            const partition = p ? Number(p[1]) : -1;
            if (options.partition === undefined || partition === options.partition) {
              out.push({
                path: `${dir}/${e.name}`,
                topic,
                date,
                hour: Number(h),
                partition,
                first: -1,
                last: -1,
              });
            }
          }
        }
      }
    }
  }
  return out.sort((a, b) =>
    a.topic < b.topic
      ? -1
      : a.topic > b.topic
      ? 1
      : a.date < b.date
      ? -1
      : a.date > b.date
      ? 1
      : a.hour - b.hour || a.partition - b.partition || a.first - b.first
  );
}

/** Options of {@link writeArchive}. */
export interface WriteArchiveOptions extends EncodeOptions, AtomicWriteOptions {}

/**
 * Writes rows as master dataset files: one file per (topic, partition, date, hour), named by the
 * first and last offset of its rows (rows are sorted by offset within a file).
 * @returns the paths written
 */
export async function writeArchive(
  dataDir: string,
  rows: readonly ArchiveRow[],
  options: WriteArchiveOptions = {},
): Promise<string[]> {
  const groups = new Map<string, ArchiveRow[]>();
  for (const r of rows) {
    const k = `${r.topic}\u0000${r.partition}\u0000${r.date}\u0000${r.hour}`;
    let g = groups.get(k);
    if (!g) groups.set(k, g = []);
    g.push(r);
  }
  const paths: string[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.offset - b.offset);
    const { topic, partition, date, hour } = g[0];
    const dir = archiveDir(dataDir, topic, date, hour);
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}/${archiveFileName(partition, g[0].offset, g[g.length - 1].offset)}`;
    await writeFileAtomic(path, encodeArchive(g, options), options);
    paths.push(path);
  }
  return paths;
}
