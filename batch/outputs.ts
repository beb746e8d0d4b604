/**
 * @module
 * Reader API of the batch outputs for the serving layer: the manifest, `batchThrough`, each view's
 * Parquet columns, and a reader of one view file (parquet-wasm → apache-arrow Table).
 *
 * @example
 * ```ts
 * import { batchThrough, readManifest, readView } from "./outputs.ts";
 * const m = await readManifest("./outputs");
 * const through = batchThrough(m); // epoch ms or null
 * const table = await readView("./outputs", m, "video_views", "2026-11-20"); // or null
 * ```
 */
import * as pw from "parquet-wasm";
import { type Table, tableFromIPC } from "apache-arrow";
import { VIEW_DEFS } from "./jobs/mod.ts";
import type { ViewColumn } from "./jobs/_view.ts";
import type { Manifest } from "./manifest.ts";

export {
  batchThrough,
  batchThroughIso,
  type Manifest,
  type ManifestDay,
  ManifestError,
  type ManifestHour,
  type ManifestViewEntry,
  MERGED_VIEWS,
  readManifest,
} from "./manifest.ts";
export type { ViewColumn } from "./jobs/_view.ts";

/** Every batch view's Parquet columns in file order, and its sort key. */
export const VIEW_COLUMNS: Readonly<
  Record<string, { columns: readonly ViewColumn[]; sortKey: readonly string[] }>
> = Object.fromEntries(VIEW_DEFS.map((v) => [v.name, { columns: v.columns, sortKey: v.sortKey }]));

/** Names of every batch view. */
export const VIEW_NAMES: readonly string[] = VIEW_DEFS.map((v) => v.name);

/** Absolute path of a view's current file for a day, or null when not published. */
export function viewPath(
  outputsDir: string,
  manifest: Manifest,
  view: string,
  date: string,
): string | null {
  const e = manifest.days[date]?.views[view];
  return e ? `${outputsDir}/${e.file}` : null;
}

/**
 * Reads a view's current file for a day as an Arrow table (null when not published). Column types
 * in JS: VARCHAR → string, BIGINT → bigint, DOUBLE → number, TIMESTAMP → epoch ms number,
 * BLOB → Uint8Array, VARCHAR[] → Vector of strings.
 */
export async function readView(
  outputsDir: string,
  manifest: Manifest,
  view: string,
  date: string,
): Promise<Table | null> {
  const path = viewPath(outputsDir, manifest, view, date);
  if (!path) return null;
  return tableFromIPC(pw.readParquet(await Deno.readFile(path)).intoIPCStream());
}

/** A row of a view as a plain object. */
export type ViewRow = Record<string, unknown>;

/**
 * Rows of a view table as plain objects: BIGINT as number (counts fit), TIMESTAMP as epoch ms,
 * VARCHAR[] as string[], BLOB as Uint8Array.
 */
export function toRows(table: Table | null): ViewRow[] {
  if (!table) return [];
  return table.toArray().map((r) => {
    const o = r.toJSON() as ViewRow;
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === "bigint") o[k] = Number(v);
      else if (v && typeof v === "object" && !(v instanceof Uint8Array) && Symbol.iterator in v) {
        o[k] = [...(v as Iterable<unknown>)];
      }
    }
    return o;
  });
}
