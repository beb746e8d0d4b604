/**
 * @module
 * What a batch view is: its columns (the Parquet schema the serving layer reads), sort key, the
 * days it reads around the target day, and its SQL over the `ev` table (deduplicated events) and
 * the `d_ev` view (events of the target day in the hours being published).
 */
import type { TopicKey } from "../../shared/config.ts";
import { DAY_MS, isoDate, parseIsoDate } from "../../shared/time.ts";

/** One output column: name, DuckDB type, meaning. */
export interface ViewColumn {
  name: string;
  /** DuckDB SQL type: VARCHAR, BIGINT, DOUBLE, TIMESTAMP (UTC), BLOB, VARCHAR[]. */
  type: string;
  doc: string;
}

/** The day being computed. */
export interface ViewContext {
  /** Target day, `YYYY-MM-DD`. */
  date: string;
  /** UTC hours of the day being published. */
  hours: readonly number[];
  topics: Record<TopicKey, string>;
  /** Segmentation window in days, ending with the target day. */
  lookbackDays: number;
}

/** A batch view. */
export interface ViewDef {
  name: string;
  /** Batch job (the `--jobs` name) that computes it. */
  job: string;
  columns: readonly ViewColumn[];
  /** Output rows are sorted by these columns (entity key, then hour). */
  sortKey: readonly string[];
  /** Published only when all 24 hours of the day are (daily_summary, user_segmentation). */
  daily: boolean;
  /** Reads table `sess` (clickstream sessions over every event read, see `sessionsSql`). */
  needsSessions?: boolean;
  /** Reads table `uh` (per-user counts per hour over every event read, see `userHoursSql`). */
  needsUserHours?: boolean;
  /**
   * Relative CPU cost of computing and writing the view (10 M events: batch/README.md); the views
   * are written costliest first so the connections finish together. Default 0.
   */
  writeCost?: number;
  /** Days to read relative to the target day, inclusive, e.g. `[-1, 1]`. */
  reads(ctx: ViewContext): [number, number];
  /** A SELECT producing (at least) the columns; the runner casts, orders and writes them. */
  sql(ctx: ViewContext): string;
}

/** `hour IN (...)` for the hours being published. */
export function hoursIn(ctx: ViewContext, column = "hour"): string {
  return ctx.hours.length === 0 ? "FALSE" : `${column} IN (${ctx.hours.join(", ")})`;
}

/**
 * `[from, to)` over a TIMESTAMP column: `from` and `to` are `YYYY-MM-DD` (UTC midnights). A range
 * on the hour start lets a scan skip row groups by their min/max.
 */
export function inDays(column: string, from: string, to: string): string {
  return `${column} >= TIMESTAMP '${from}' AND ${column} < TIMESTAMP '${to}'`;
}

/** The day after `date` (`YYYY-MM-DD`). */
export function nextDay(date: string): string {
  return isoDate(parseIsoDate(date) + DAY_MS);
}

/**
 * The target day's published hours, over an hour-start TIMESTAMP column (`hs`: the event time's
 * hour, so its date and hour are those of the archive partition the event was read from).
 */
export function inPublishedHours(ctx: ViewContext, column = "hs"): string {
  const day = inDays(column, ctx.date, nextDay(ctx.date));
  return ctx.hours.length === 24 ? day : `${day} AND ${hoursIn(ctx, `hour(${column})`)}`;
}
