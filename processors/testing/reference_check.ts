/**
 * @module
 * Compares realtime view rows (from Cassandra or the memory store) with the reference
 * calculator's `realtimeRows` (generator/reference.ts): rows are summed over `kpart` (and `topic`
 * for the multi-topic views), sketches are compared by their estimates (exact below 1024 distinct
 * values) and quantiles within 1 %, doubles within 1e-9 relative. Used by the unit tests and by the
 * speed-layer tests against the real servers.
 */
import type { TopicKey } from "../../shared/config.ts";
import { DistinctSketch } from "../../shared/sketch/hll.ts";
import { QuantileSketch } from "../../shared/sketch/quantile.ts";
import { percentile, type RealtimeView, type Reference } from "../../generator/reference.ts";
import { type TableSpec, VIEW_TABLES } from "../store/tables.ts";

/** A row by column name, values normalised: times as epoch ms, blobs as bytes, sets as arrays. */
export type PlainRow = Record<string, unknown>;

type Figures = Record<string, unknown>;

const KEYS: Record<string, string[]> = {
  events_aggregated_realtime: ["user_id", "window_start", "event_type", "app_type"],
  app_event_counts_rt: ["hour", "minute", "event_type", "app_type"],
  realtime_user_activity: ["user_id", "minute"],
  realtime_course_engagement: ["course_id", "minute"],
  realtime_video_views: ["video_id", "minute"],
  realtime_assessment_scores: ["assessment_id", "minute"],
  realtime_notification_funnel: ["channel", "minute"],
  clickstream_sessions: ["user_id", "session_start", "session_id"],
  late_events: ["view", "hour", "topic"],
};

function keyOf(table: string, row: PlainRow): string {
  return JSON.stringify(KEYS[table].map((k) => row[k]));
}

function num(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v);
}

/** Sums stored rows of one table over kpart and topic into the reference's figures. */
export function summarize(table: TableSpec, rows: PlainRow[]): Map<string, Figures> {
  const out = new Map<string, Figures>();
  for (const r of rows) {
    const k = keyOf(table.name, r);
    let f = out.get(k);
    if (!f) out.set(k, f = {});
    for (const c of table.values) {
      const v = r[c.name];
      if (c.name === "kpart" || c.name === "closed") continue;
      if (c.type === "bigint" || c.type === "double" || c.type === "int") {
        if (c.name === "min_percent") {
          if (v !== null && v !== undefined) {
            f[c.name] = Math.min(num(f[c.name] ?? Infinity), num(v));
          }
        } else if (c.name === "max_percent") {
          if (v !== null && v !== undefined) {
            f[c.name] = Math.max(num(f[c.name] ?? -Infinity), num(v));
          }
        } else if (table.name === "clickstream_sessions") f[c.name] = v;
        else f[c.name] = num(f[c.name]) + num(v);
      } else if (c.type === "timestamp") {
        f[c.name] = c.name === "last_seen" ? Math.max(num(f[c.name] ?? -Infinity), num(v)) : v;
      } else if (c.type === "set<text>") {
        f[c.name] = [...new Set([...(f[c.name] as string[] ?? []), ...(v as string[] ?? [])])]
          .sort();
      } else if (c.type === "frozen<list<text>>") {
        f[c.name] = v ?? [];
      } else if (c.type === "blob") {
        const bytes = v as Uint8Array;
        if (c.name === "percent_sketch") {
          const s = (f[c.name] as QuantileSketch | undefined) ?? QuantileSketch.empty();
          f[c.name] = s.merge(QuantileSketch.deserialize(bytes));
        } else {
          const s = (f[c.name] as DistinctSketch | undefined) ?? DistinctSketch.empty();
          f[c.name] = s.merge(DistinctSketch.deserialize(bytes));
        }
      }
    }
  }
  return out;
}

function close(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

function compareFigures(table: string, key: string, got: Figures, want: Figures): string[] {
  const diffs: string[] = [];
  const say = (col: string, g: unknown, w: unknown) =>
    diffs.push(`${table} ${key} ${col}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`);
  for (const [col, w] of Object.entries(want)) {
    if (KEYS[table].includes(col)) continue;
    const g = got[col];
    if (col === "active_users" || col === "unique_viewers") {
      const est = (g as DistinctSketch).estimate();
      const exact = (w as string[]).length;
      if (exact < 1024 ? est !== exact : Math.abs(est - exact) > 0.02 * exact) say(col, est, exact);
    } else if (col === "percents") {
      const s = got.percent_sketch as QuantileSketch;
      const values = w as number[];
      if (s.count !== values.length) say("percent_sketch.count", s.count, values.length);
      for (const q of [0.5, 0.95]) {
        const e = percentile(values, q), a = s.quantile(q);
        if (e !== null && (a === null || Math.abs(a - e) > 0.01 * Math.abs(e))) {
          say(`percent_sketch p${q * 100}`, a, e);
        }
      }
    } else if (Array.isArray(w)) {
      if (JSON.stringify(g) !== JSON.stringify(w)) say(col, g, w);
    } else if (typeof w === "number") {
      if (typeof g !== "number" || !close(g, w)) say(col, g, w);
    } else if (w === null) {
      if (g !== null && g !== undefined) say(col, g, w);
    } else if (g !== w) say(col, g, w);
  }
  return diffs;
}

/** Options of {@link compareWithReference}. */
export interface CompareOptions {
  /** Actual topic names (late_events and multi-topic rows carry them) → logical topic. */
  topicKeys: ReadonlyMap<string, TopicKey>;
  /** Tables to compare; default every realtime table. */
  tables?: readonly TableSpec[];
}

/**
 * Compares stored rows with the reference's realtime rows.
 * @param rowsOf the stored rows of a table (plain values)
 * @returns human-readable differences (empty when equal) and the number of rows compared
 */
export async function compareWithReference(
  ref: Reference,
  rowsOf: (table: TableSpec) => Promise<PlainRow[]> | PlainRow[],
  options: CompareOptions,
): Promise<{ diffs: string[]; rows: number }> {
  const diffs: string[] = [];
  let rows = 0;
  for (const table of options.tables ?? VIEW_TABLES) {
    let stored = await rowsOf(table);
    if (table.name === "late_events") {
      stored = stored.map((r) => ({ ...r, topic: options.topicKeys.get(r.topic as string) }));
    }
    const got = summarize(table, stored);
    const want = new Map<string, Figures>();
    for (const r of ref.realtimeRows(table.name as RealtimeView)) want.set(keyOf(table.name, r), r);
    for (const [k, w] of want) {
      const g = got.get(k);
      if (!g) diffs.push(`${table.name} ${k}: missing`);
      else diffs.push(...compareFigures(table.name, k, g, w));
    }
    for (const k of got.keys()) if (!want.has(k)) diffs.push(`${table.name} ${k}: unexpected row`);
    rows += want.size;
  }
  return { diffs, rows };
}
