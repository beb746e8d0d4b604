/**
 * @module
 * The figures of the dashboard that GraphQL does not answer (CONTRACTS.md §4 stays as it is):
 * dead-letter counts per topic (Kafka offsets of `<topic>.dlq`), late events per stream job and
 * hour (Cassandra `late_events`), and which courses and assessments exist (realtime partition keys
 * plus the keys of the latest published batch views), so the page can ask GraphQL about each.
 * Each part is read independently: one failing source shows as an error beside the others.
 */
import type { Kafka } from "kafkajs";
import type { Client } from "cassandra-driver";
import { tableFromIPC } from "apache-arrow";
import * as pw from "parquet-wasm";
import { dlqTopic, type ResolvedConfig, STREAM_JOBS, TOPIC_KEYS } from "../../shared/config.ts";
import { createKafka } from "../../shared/kafka.ts";
import { createCassandraClient } from "../../shared/cassandra.ts";
import { HOUR_MS, toIso } from "../../shared/time.ts";
import { readManifest } from "../../batch/manifest.ts";

/** The settings the dashboard's data reads. */
export type DashboardDataConfig = Pick<
  ResolvedConfig,
  | "kafkaBrokers"
  | "logLevel"
  | "topics"
  | "cassandraHosts"
  | "cassandraPort"
  | "cassandraKeyspace"
  | "cassandraLocalDc"
  | "outputsDir"
>;

/** Dead letters of one input topic. */
export interface DlqCount {
  /** Input topic (Kafka name). */
  topic: string;
  dlqTopic: string;
  /** Messages in the DLQ topic (sum over partitions of high minus low watermark). */
  count: number;
}

/** Late events (DESIGN.md "Watermark") of one stream job within the window. */
export interface LateByView {
  view: string;
  late: number;
  /** Per input topic (Kafka name). */
  byTopic: Record<string, number>;
}

/** Ids the page asks GraphQL about. */
interface Entities {
  courses: string[];
  assessments: string[];
}

/** One part of the answer, or why it could not be read. */
export type Part<T> = { ok: T } | { error: string };

/** What `GET /api/dashboard` answers. */
export interface DashboardStatus {
  generatedAt: string;
  /** Start of the late-event window (an hour start), RFC 3339. */
  lateSince: string;
  dlq: Part<{ total: number; topics: DlqCount[] }>;
  late: Part<{ total: number; views: LateByView[]; byHour: { hour: string; late: number }[] }>;
  entities: Part<Entities>;
}

/** Options of {@link createDashboardData}; each has a real default. */
export interface DashboardDataOptions {
  /** Kafka client; default one from the configuration. */
  kafka?: Kafka;
  /** Cassandra client bound to the keyspace; default one from the configuration. */
  cassandra?: Client;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Answers are reused for this long; default 2000 ms. */
  cacheMs?: number;
  /** Late events are summed over this many hours up to now; default 24. */
  lateWindowHours?: number;
  /** Batch days (newest first) whose view keys are listed; default 2. */
  batchDays?: number;
  /** The course and assessment lists are reused for this long; default 60000 ms. */
  entitiesCacheMs?: number;
}

/** Reads {@link DashboardStatus}; `close()` releases the clients it created. */
export interface DashboardData {
  status(): Promise<DashboardStatus>;
  close(): Promise<void>;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function part<T>(fn: () => Promise<T>): Promise<Part<T>> {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: errorText(e) };
  }
}

/** Sums `late_events` rows into per-view, per-topic and per-hour totals (pure). */
export function summariseLate(
  rows: readonly { view: string; hour: number; topic: string; late: number }[],
): { total: number; views: LateByView[]; byHour: { hour: string; late: number }[] } {
  const views = new Map<string, LateByView>();
  const hours = new Map<number, number>();
  let total = 0;
  for (const r of rows) {
    let v = views.get(r.view);
    if (!v) views.set(r.view, v = { view: r.view, late: 0, byTopic: {} });
    v.late += r.late;
    v.byTopic[r.topic] = (v.byTopic[r.topic] ?? 0) + r.late;
    hours.set(r.hour, (hours.get(r.hour) ?? 0) + r.late);
    total += r.late;
  }
  return {
    total,
    views: [...views.values()].sort((a, b) => b.late - a.late || a.view.localeCompare(b.view)),
    byHour: [...hours].sort((a, b) => a[0] - b[0]).map(([h, late]) => ({ hour: toIso(h), late })),
  };
}

/** Messages held by a topic: Σ over partitions of high minus low watermark (pure). */
export function messagesIn(offsets: readonly { high: string; low: string }[]): number {
  let n = 0;
  for (const o of offsets) n += Math.max(0, Number(o.high) - Number(o.low));
  return n;
}

async function distinctKeys(client: Client, table: string, column: string): Promise<string[]> {
  const out: string[] = [];
  const rs = await client.execute(`SELECT DISTINCT ${column} FROM ${table}`, [], {
    prepare: true,
    fetchSize: 5000,
  });
  for await (const row of rs) out.push(String(row.get(column)));
  return out;
}

async function batchKeys(
  outputsDir: string,
  view: string,
  column: string,
  days: number,
): Promise<string[]> {
  const manifest = await readManifest(outputsDir);
  const dates = Object.keys(manifest.days).sort().reverse().slice(0, days);
  const keys = new Set<string>();
  for (const d of dates) {
    const entry = manifest.days[d].views[view];
    if (!entry) continue;
    const bytes = await Deno.readFile(`${outputsDir}/${entry.file}`);
    const table = tableFromIPC(pw.readParquet(bytes, { columns: [column] }).intoIPCStream());
    const col = table.getChild(column);
    if (!col) continue;
    for (const v of col) if (v !== null && v !== undefined) keys.add(String(v));
  }
  return [...keys];
}

/**
 * Creates the dashboard's reader of DLQ counts, late events and entity keys.
 * @param cfg brokers, topics, Cassandra and the outputs directory
 * @param options clients, clock and windows
 */
export function createDashboardData(
  cfg: DashboardDataConfig,
  options: DashboardDataOptions = {},
): DashboardData {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 2000;
  const windowHours = options.lateWindowHours ?? 24;
  const batchDays = options.batchDays ?? 2;
  const kafka = options.kafka ?? createKafka(cfg, "edu-serving-dashboard", { logLevel: "nothing" });
  const cassandra = options.cassandra ??
    createCassandraClient(cfg, { readTimeoutMs: 5000, connectTimeoutMs: 3000 });
  const admin = kafka.admin();
  let adminUp: Promise<void> | undefined;
  let cached: { at: number; value: Promise<DashboardStatus> } | undefined;

  async function dlq(): Promise<{ total: number; topics: DlqCount[] }> {
    adminUp ??= admin.connect().catch((e) => {
      adminUp = undefined;
      throw e;
    });
    await adminUp;
    const existing = new Set(await admin.listTopics());
    const topics: DlqCount[] = [];
    for (const key of TOPIC_KEYS) {
      const topic = cfg.topics[key];
      const dlq = dlqTopic(topic);
      const count = existing.has(dlq) ? messagesIn(await admin.fetchTopicOffsets(dlq)) : 0;
      topics.push({ topic, dlqTopic: dlq, count });
    }
    return { total: topics.reduce((s, t) => s + t.count, 0), topics };
  }

  async function late(since: number) {
    const rows: { view: string; hour: number; topic: string; late: number }[] = [];
    for (const view of STREAM_JOBS) {
      const rs = await cassandra.execute(
        `SELECT "hour", "topic", "late" FROM late_events WHERE "view" = ? AND "hour" >= ?`,
        [view, new Date(since)],
        { prepare: true, fetchSize: 5000 },
      );
      for await (const r of rs) {
        rows.push({
          view,
          hour: (r.get("hour") as Date).getTime(),
          topic: String(r.get("topic")),
          late: Number(r.get("late")),
        });
      }
    }
    return summariseLate(rows);
  }

  let entitiesCached: { at: number; value: Promise<Entities> } | undefined;
  function entities(): Promise<Entities> {
    const at = now();
    if (!entitiesCached || at - entitiesCached.at >= (options.entitiesCacheMs ?? 60_000)) {
      const value = readEntities();
      entitiesCached = { at, value };
      value.catch(() => entitiesCached = undefined);
    }
    return entitiesCached.value;
  }

  async function readEntities(): Promise<Entities> {
    const union = async (table: string, view: string, column: string) => {
      const [rt, batch] = await Promise.all([
        distinctKeys(cassandra, table, column),
        batchKeys(cfg.outputsDir, view, column, batchDays),
      ]);
      return [...new Set([...rt, ...batch])].sort();
    };
    return {
      courses: await union("realtime_course_engagement", "course_engagement", "course_id"),
      assessments: await union("realtime_assessment_scores", "assessment_scores", "assessment_id"),
    };
  }

  async function read(at: number): Promise<DashboardStatus> {
    const since = Math.floor(at / HOUR_MS) * HOUR_MS - (windowHours - 1) * HOUR_MS;
    const [d, l, e] = await Promise.all([part(dlq), part(() => late(since)), part(entities)]);
    return { generatedAt: toIso(at), lateSince: toIso(since), dlq: d, late: l, entities: e };
  }

  return {
    status() {
      const at = now();
      if (!cached || at - cached.at >= cacheMs) cached = { at, value: read(at) };
      return cached.value;
    },
    async close() {
      if (adminUp) await admin.disconnect().catch(() => {});
      if (!options.cassandra) await cassandra.shutdown().catch(() => {});
    },
  };
}
