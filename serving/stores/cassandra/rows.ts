/**
 * @module
 * Reading cassandra-driver values: bigint columns arrive as `Long`, timestamps as `Date`, blobs as
 * `Buffer`; these helpers turn them into numbers, epoch ms and plain bytes.
 */
import type { Client, types } from "cassandra-driver";

/** A bigint/int/double column as a number (0 when null). */
export function num(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  const long = v as { toNumber?: () => number };
  if (typeof long.toNumber === "function") return long.toNumber();
  return Number(v);
}

/** A nullable number column. */
export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

/** A timestamp column as epoch ms, null when null. */
export function time(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  return num(v);
}

/** A blob column as bytes (empty when null). */
export function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return new Uint8Array(0);
}

/** Options of {@link selectAll}. */
export interface SelectOptions {
  /** Rows per page; default 5000. */
  fetchSize?: number;
  consistency?: number;
}

/** Runs a prepared SELECT and follows every page. */
export async function selectAll(
  client: Client,
  query: string,
  params: unknown[],
  options: SelectOptions = {},
): Promise<types.Row[]> {
  const rows: types.Row[] = [];
  let pageState: string | undefined;
  do {
    const rs = await client.execute(query, params, {
      prepare: true,
      fetchSize: options.fetchSize ?? 5000,
      ...(options.consistency !== undefined ? { consistency: options.consistency } : {}),
      ...(pageState ? { pageState } : {}),
    });
    for (const r of rs.rows) rows.push(r);
    pageState = rs.pageState ?? undefined;
  } while (pageState);
  return rows;
}
