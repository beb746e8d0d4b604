/**
 * @module
 * One batch view file (Parquet via parquet-wasm, rows as apache-arrow tables). The files are
 * sorted by entity key, so when the file is opened its key column is read once to build a
 * key → row-group index (parquet-wasm exposes no column statistics); a lookup then decodes only
 * the row group(s) whose key range holds the key.
 */
import { type Table, tableFromIPC } from "apache-arrow";
import * as pw from "parquet-wasm";

/** A row group's place in the file and the range of its (sorted) keys. */
export interface RowGroupRange {
  index: number;
  /** Offset of its first row in the file. */
  firstRow: number;
  rows: number;
  minKey: string;
  maxKey: string;
}

/** An opened view file. */
export class ViewFile {
  /** Path the bytes came from. */
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Key column of the index, null when the file is read whole. */
  readonly keyColumn: string | null;
  readonly rowGroups: readonly RowGroupRange[];
  readonly numRows: number;

  private constructor(
    path: string,
    bytes: Uint8Array,
    keyColumn: string | null,
    rowGroups: RowGroupRange[],
    numRows: number,
  ) {
    this.path = path;
    this.bytes = bytes;
    this.keyColumn = keyColumn;
    this.rowGroups = rowGroups;
    this.numRows = numRows;
  }

  /**
   * Reads a file and, when `keyColumn` is given, its key → row-group index.
   * @throws {Deno.errors.NotFound} when the file does not exist
   * @throws {Error} when it is not Parquet or the key column is missing or unsorted
   */
  static async open(path: string, keyColumn: string | null): Promise<ViewFile> {
    const bytes = await Deno.readFile(path);
    return ViewFile.fromBytes(path, bytes, keyColumn);
  }

  /** As {@link open}, from bytes already read. */
  static async fromBytes(
    path: string,
    bytes: Uint8Array,
    keyColumn: string | null,
  ): Promise<ViewFile> {
    const file = await pw.ParquetFile.fromFile(new Blob([bytes as BlobPart]));
    let sizes: number[];
    try {
      const meta = file.metadata();
      sizes = meta.rowGroups().map((rg) => rg.numRows());
    } finally {
      file.free();
    }
    const numRows = sizes.reduce((a, b) => a + b, 0);
    const ranges: RowGroupRange[] = [];
    if (keyColumn !== null && numRows > 0) {
      const keys = decode(bytes, { columns: [keyColumn] }).getChild(keyColumn);
      if (!keys) throw new Error(`${path}: no column "${keyColumn}"`);
      let first = 0;
      for (let i = 0; i < sizes.length; i++) {
        if (sizes[i] === 0) continue;
        const minKey = String(keys.get(first)), maxKey = String(keys.get(first + sizes[i] - 1));
        const prev = ranges[ranges.length - 1];
        if (minKey > maxKey || (prev && prev.maxKey > minKey)) {
          throw new Error(`${path}: rows are not sorted by "${keyColumn}"`);
        }
        ranges.push({ index: i, firstRow: first, rows: sizes[i], minKey, maxKey });
        first += sizes[i];
      }
    } else {
      let first = 0;
      sizes.forEach((rows, index) => {
        ranges.push({ index, firstRow: first, rows, minKey: "", maxKey: "" });
        first += rows;
      });
    }
    return new ViewFile(path, bytes, keyColumn, ranges, numRows);
  }

  /** Row groups whose key range holds `key` (usually one; more when a key spans a boundary). */
  rowGroupsFor(key: string): RowGroupRange[] {
    if (this.keyColumn === null) return [...this.rowGroups];
    // First row group whose maxKey ≥ key, then every following one whose minKey ≤ key.
    let lo = 0, hi = this.rowGroups.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rowGroups[mid].maxKey < key) lo = mid + 1;
      else hi = mid;
    }
    const out: RowGroupRange[] = [];
    for (let i = lo; i < this.rowGroups.length && this.rowGroups[i].minKey <= key; i++) {
      out.push(this.rowGroups[i]);
    }
    return out;
  }

  /** Decodes the given row groups (all columns or `columns`), in file order, as one table. */
  read(rowGroups: readonly number[], columns?: readonly string[]): Table {
    const sorted = [...new Set(rowGroups)].sort((a, b) => a - b);
    return decode(this.bytes, {
      rowGroups: sorted,
      ...(columns ? { columns: [...columns] } : {}),
    });
  }

  /** Decodes the whole file (all columns or `columns`). */
  readAll(columns?: readonly string[]): Table {
    return decode(this.bytes, columns ? { columns: [...columns] } : {});
  }
}

function decode(bytes: Uint8Array, options: pw.ReaderOptions): Table {
  const wasmTable = pw.readParquet(bytes, { batchSize: 65_536, ...options });
  return tableFromIPC(wasmTable.intoIPCStream());
}

/** Index of the first row in `[from, to)` whose key column value is ≥ `key` (rows sorted). */
export function lowerBound(table: Table, column: string, key: string, from = 0, to?: number) {
  const keys = table.getChild(column);
  if (!keys) throw new Error(`no column "${column}"`);
  let lo = from, hi = to ?? table.numRows;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (String(keys.get(mid)) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
