/**
 * @module
 * Row writes and the store they go to. A row write is an idempotent upsert (or delete) of one row
 * with an explicit write timestamp, so rewriting the same rows after a replay is harmless and a
 * stale writer never wins.
 */
import type { LateHour } from "../operators/late_counter.ts";
import type { TableSpec } from "./tables.ts";

/** One row to upsert or delete. */
export interface RowWrite {
  table: TableSpec;
  op: "upsert" | "delete";
  /**
   * Column values in the table's row order (key columns, then value columns); a delete carries
   * the key columns only. Timestamps are epoch ms, blobs `Uint8Array`, sets and lists arrays.
   */
  values: unknown[];
  /** The write timestamp (`USING TIMESTAMP`): 1 + offset of the newest event behind the row. */
  version: number;
}

/** Where realtime rows go. */
export interface ViewStore {
  /**
   * Writes rows; resolves once every row is durable, rejects (possibly after writing some of
   * them) when any write failed. Writing the same rows again is harmless.
   */
  write(rows: readonly RowWrite[]): Promise<void>;
  /**
   * The stored `late_events` rows of one view, topic and partition, with their write timestamps,
   * so a new owner continues their absolute counts.
   */
  lateCounts(view: string, topic: string, kpart: number): Promise<LateHour[]>;
  /** Releases connections. */
  close(): Promise<void>;
}
