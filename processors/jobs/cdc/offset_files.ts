/**
 * @module
 * Parquet outputs of a stream job laid out so that a replay replaces, never duplicates, a file:
 * `<root>/date=<YYYY-MM-DD>/p<partition>-<firstOffset>-<lastOffset>.parquet`, written under a
 * temporary name and renamed (shared/archive.ts `writeFileAtomic`). A new owner of a partition
 * deletes the partition's files whose first offset is at or after its resume offset (written
 * after the last stored checkpoint) and stray temporary files, then replays. Encoding follows
 * shared/archive.ts: Arrow vectors to parquet-wasm, zstd.
 */
import * as pw from "parquet-wasm";
import {
  Bool,
  Field,
  Float64,
  Int32,
  Int64,
  Schema,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  type Vector,
  vectorFromArray,
} from "apache-arrow";
import { archiveFileName, TEMP_PREFIX, writeFileAtomic } from "../../../shared/archive.ts";
import { isoDate } from "../../../shared/time.ts";

/** Column types supported by {@link encodeRows}. */
export type ColumnType = "utf8" | "int32" | "int64" | "float64" | "bool";

/** A Parquet column: its name, the row field it holds, type and nullability. */
export interface Column<R> {
  name: string;
  field: keyof R & string;
  type: ColumnType;
  nullable: boolean;
}

const ARROW = {
  utf8: () => new Utf8(),
  int32: () => new Int32(),
  int64: () => new Int64(),
  float64: () => new Float64(),
  bool: () => new Bool(),
};

/** The Arrow schema of a column list. */
export function arrowSchema<R>(columns: readonly Column<R>[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, ARROW[c.type](), c.nullable)));
}

/**
 * Encodes rows as a Parquet file (zstd).
 * @throws {RangeError} when `rows` is empty
 */
export function encodeRows<R>(columns: readonly Column<R>[], rows: readonly R[]): Uint8Array {
  if (rows.length === 0) throw new RangeError("Cannot encode a Parquet file of 0 rows");
  const vectors: Record<string, Vector> = {};
  const n = rows.length;
  for (const c of columns) {
    const get = (i: number) => (rows[i] as Record<string, unknown>)[c.field];
    if (c.type === "int64" && !c.nullable) {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = BigInt(get(i) as number);
      vectors[c.name] = vectorFromArray(a);
    } else if (c.type === "int32" && !c.nullable) {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = get(i) as number;
      vectors[c.name] = vectorFromArray(a);
    } else {
      const a = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = get(i);
        a[i] = v === undefined || v === null ? null : c.type === "int64" ? BigInt(v as number) : v;
      }
      vectors[c.name] = vectorFromArray(a, ARROW[c.type]());
    }
  }
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(65_536)
    .build();
  return pw.writeParquet(
    pw.Table.fromIPCStream(tableToIPC(new Table(vectors), "stream")),
    props,
  );
}

/** Decodes a file written by {@link encodeRows} (tests and tools). */
export function decodeRows<R>(columns: readonly Column<R>[], bytes: Uint8Array): R[] {
  const table = tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  const cols = columns.map((c) => ({ c, v: table.getChild(c.name) }));
  const out: R[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (const { c, v } of cols) {
      const x = v ? v.get(i) : null;
      row[c.field] = typeof x === "bigint" ? Number(x) : x ?? null;
    }
    out.push(row as R);
  }
  return out;
}

/** One offset-range file. */
export interface OffsetFile {
  path: string;
  date: string;
  partition: number;
  first: number;
  last: number;
}

const FILE_RE = /^p(\d+)-(\d+)-(\d+)\.parquet$/;
const TEMP_RE = /^\.tmp-p(\d+)-/;

/** Lists the offset-range files below `root` (every `date=` folder), sorted by date and offset. */
export async function listOffsetFiles(
  root: string,
  options: { partition?: number; includeTemp?: boolean } = {},
): Promise<OffsetFile[]> {
  const out: OffsetFile[] = [];
  let dates: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (e.isDirectory && e.name.startsWith("date=")) dates.push(e.name.slice(5));
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return out;
    throw e;
  }
  dates = dates.sort();
  for (const date of dates) {
    const dir = `${root}/date=${date}`;
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile) continue;
      const m = FILE_RE.exec(e.name);
      if (m) {
        const partition = Number(m[1]);
        if (options.partition === undefined || options.partition === partition) {
          out.push({ path: `${dir}/${e.name}`, date, partition, first: +m[2], last: +m[3] });
        }
      } else if (options.includeTemp && e.name.startsWith(TEMP_PREFIX)) {
        const t = TEMP_RE.exec(e.name);
        const partition = t ? Number(t[1]) : -1;
        if (options.partition === undefined || options.partition === partition) {
          out.push({ path: `${dir}/${e.name}`, date, partition, first: -1, last: -1 });
        }
      }
    }
  }
  return out.sort((a, b) =>
    a.date < b.date ? -1 : a.date > b.date ? 1 : a.partition - b.partition || a.first - b.first
  );
}

/**
 * Deletes the partition's files below `root` whose first offset is ≥ `from`, and its temporary
 * files. A file straddling `from` is kept (it cannot exist when checkpoints are taken at file
 * boundaries) and reported.
 * @returns removed file count and straddling files
 */
export async function removeFilesFrom(
  root: string,
  partition: number,
  from: number,
): Promise<{ removed: number; straddling: string[] }> {
  let removed = 0;
  const straddling: string[] = [];
  for (const f of await listOffsetFiles(root, { partition, includeTemp: true })) {
    if (f.first === -1 || f.first >= from) {
      await Deno.remove(f.path).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
      removed++;
    } else if (f.last >= from) {
      straddling.push(f.path);
    }
  }
  return { removed, straddling };
}

/** A row that knows its partition offset and event time. */
export interface OffsetRow {
  offset: number;
  eventTime: number;
}

/** Options of {@link writeOffsetFiles}. */
export interface WriteOffsetFilesOptions<R> {
  /** The Kafka partition of every row. */
  partition: number;
  /** The file's columns. */
  columns: readonly Column<R>[];
  /** fsync each file before its rename; default true. */
  fsync?: boolean;
}

/**
 * Writes rows (of one partition, ascending offsets) as one file per event date, each named by
 * the first and last offset of its rows.
 * @returns the paths written
 */
export async function writeOffsetFiles<R extends OffsetRow>(
  root: string,
  rows: readonly R[],
  options: WriteOffsetFilesOptions<R>,
): Promise<string[]> {
  const { partition, columns } = options;
  const byDate = new Map<string, R[]>();
  for (const r of rows) {
    const d = isoDate(r.eventTime);
    let g = byDate.get(d);
    if (!g) byDate.set(d, g = []);
    g.push(r);
  }
  const paths: string[] = [];
  for (const [date, g] of byDate) {
    const dir = `${root}/date=${date}`;
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}/${archiveFileName(partition, g[0].offset, g[g.length - 1].offset)}`;
    await writeFileAtomic(path, encodeRows(columns, g), { fsync: options.fsync });
    paths.push(path);
  }
  return paths;
}
