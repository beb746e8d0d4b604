/**
 * @module
 * The realtime store over the speed layer's Cassandra tables (infra/schema.cql): every read is a
 * prepared statement on one partition (an entity, or one hour of all app events), rows are
 * summed over `kpart` (and `topic` on the multi-topic views) per minute, and answers are reused
 * for at most `cacheMs` (REALTIME_CACHE_MS). The speed layer's status (watermark, lag) comes from
 * `stream_status`.
 */
import { type Client, types } from "cassandra-driver";
import { DistinctSketch, QuantileSketch } from "../../../shared/sketch/mod.ts";
import { HOUR_MS } from "../../../shared/time.ts";
import { type FigureOps, FIGURES } from "../../merge/figures.ts";
import type {
  RealtimeStatus,
  RealtimeStore,
  SeriesView,
  SessionRecord,
  ViewFigures,
  ViewKeys,
} from "../../merge/types.ts";
import { bytes, num, numOrNull, selectAll, time } from "./rows.ts";
import { realtimeStatusOf, type StatusRow } from "./status.ts";

/** Options of {@link CassandraRealtimeStore}. */
export interface CassandraRealtimeStoreOptions {
  /** Consumer group of the speed layer (CONSUMER_GROUP), whose `stream_status` rows count. */
  consumerGroup: string;
  /** Reuse an answer for this long (REALTIME_CACHE_MS, at most 1000); default 1000. */
  cacheMs?: number;
  /** IDLE_PARTITION_MS: partitions without data for this long do not hold the watermark back. */
  idlePartitionMs?: number;
  /** The speed layer is live while some status row is younger than this; default 15000 ms. */
  staleAfterMs?: number;
  /** Read consistency; default LOCAL_QUORUM. */
  consistency?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

/** Counters for tests. */
export interface RealtimeStoreStats {
  queries: number;
  cacheHits: number;
}

const Q = {
  appAll: "SELECT minute, event_type, app_type, event_count FROM app_event_counts_rt " +
    "WHERE hour = ? AND minute >= ? AND minute < ?",
  appUser:
    "SELECT window_start, event_type, app_type, event_count FROM events_aggregated_realtime " +
    "WHERE user_id = ? AND window_start >= ? AND window_start < ?",
  course: "SELECT minute, enrollments, unenrollments, completions, active_users " +
    "FROM realtime_course_engagement WHERE course_id = ? AND minute >= ? AND minute < ?",
  video:
    "SELECT minute, plays, completes, watch_seconds, unique_viewers FROM realtime_video_views " +
    "WHERE video_id = ? AND minute >= ? AND minute < ?",
  assessment: "SELECT minute, graded, sum_percent, min_percent, max_percent, percent_sketch " +
    "FROM realtime_assessment_scores WHERE assessment_id = ? AND minute >= ? AND minute < ?",
  activity:
    "SELECT minute, events, logins, video_events, assessment_events, app_events, last_seen " +
    "FROM realtime_user_activity WHERE user_id = ? AND minute >= ? AND minute < ?",
  sessions: "SELECT session_start, session_id, session_end, duration_sec, clicks, unique_pages, " +
    "path FROM clickstream_sessions WHERE user_id = ? AND session_start >= ? AND session_start < ?",
  status: "SELECT topic, kpart, watermark, max_event_time, lag, last_data_at, updated_at " +
    "FROM stream_status WHERE consumer_group = ?",
} as const;

function distinct(b: Uint8Array): DistinctSketch {
  return b.length === 0 ? DistinctSketch.empty() : DistinctSketch.deserialize(b);
}

function quantiles(b: Uint8Array): QuantileSketch {
  return b.length === 0 ? QuantileSketch.empty() : QuantileSketch.deserialize(b);
}

/** Minute rows of a view as (minute, figures) pairs, one per Cassandra row. */
function decode<V extends SeriesView>(view: V, row: types.Row): [number, ViewFigures[V]] {
  switch (view) {
    case "courseEngagement":
      return [
        time(row.minute)!,
        {
          enrollments: num(row.enrollments),
          unenrollments: num(row.unenrollments),
          completions: num(row.completions),
          activeUsers: distinct(bytes(row.active_users)),
        } as ViewFigures[V],
      ];
    case "videoViews":
      return [
        time(row.minute)!,
        {
          plays: num(row.plays),
          completes: num(row.completes),
          watchSeconds: num(row.watch_seconds),
          uniqueViewers: distinct(bytes(row.unique_viewers)),
        } as ViewFigures[V],
      ];
    case "assessmentScores": {
      const graded = num(row.graded);
      return [
        time(row.minute)!,
        {
          graded,
          sumPercent: num(row.sum_percent),
          minPercent: graded === 0 ? null : numOrNull(row.min_percent),
          maxPercent: graded === 0 ? null : numOrNull(row.max_percent),
          percents: quantiles(bytes(row.percent_sketch)),
        } as ViewFigures[V],
      ];
    }
    case "userActivity":
      return [
        time(row.minute)!,
        {
          events: num(row.events),
          logins: num(row.logins),
          videoEvents: num(row.video_events),
          assessmentEvents: num(row.assessment_events),
          appEvents: num(row.app_events),
          lastSeen: time(row.last_seen),
        } as ViewFigures[V],
      ];
    default:
      throw new TypeError(`decode: ${view} is read by its own query`);
  }
}

const ENTITY_QUERY = {
  courseEngagement: [Q.course, (k: ViewKeys["courseEngagement"]) => k.courseId],
  videoViews: [Q.video, (k: ViewKeys["videoViews"]) => k.videoId],
  assessmentScores: [Q.assessment, (k: ViewKeys["assessmentScores"]) => k.assessmentId],
  userActivity: [Q.activity, (k: ViewKeys["userActivity"]) => k.userId],
} as const;

/** Realtime views read from Cassandra. */
export class CassandraRealtimeStore implements RealtimeStore {
  readonly #client: Client;
  readonly #group: string;
  readonly #cacheMs: number;
  readonly #idleMs: number;
  readonly #staleMs: number;
  readonly #consistency: number;
  readonly #now: () => number;
  readonly #cache = new Map<
    string,
    { at: number; value: Promise<unknown>; reloading?: boolean }
  >();
  readonly stats: RealtimeStoreStats = { queries: 0, cacheHits: 0 };

  /**
   * @param client a client connected to the keyspace of the realtime tables
   * @param options consumer group, cache and liveness settings
   */
  constructor(client: Client, options: CassandraRealtimeStoreOptions) {
    this.#client = client;
    this.#group = options.consumerGroup;
    this.#cacheMs = Math.min(1000, Math.max(0, options.cacheMs ?? 1000));
    this.#idleMs = options.idlePartitionMs ?? 30_000;
    this.#staleMs = options.staleAfterMs ?? 15_000;
    this.#consistency = options.consistency ?? types.consistencies.localQuorum;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Answers `key` from the cache when younger than `cacheMs`, else runs `load` (shared in flight).
   * An answer past half its life is reloaded in the background while it is still served, and
   * replaced when the reload arrives: a key in steady use is reloaded off the request path, and
   * no answer is ever older than `cacheMs` (its age counts from when its query was sent).
   */
  #cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < this.#cacheMs) {
      this.stats.cacheHits++;
      if (!hit.reloading && now - hit.at >= this.#cacheMs / 2) {
        hit.reloading = true;
        const value = load();
        value.then(
          () => {
            if (this.#cache.get(key) === hit) this.#cache.set(key, { at: now, value });
          },
          () => hit.reloading = false,
        );
      }
      return hit.value as Promise<T>;
    }
    const value = load();
    if (this.#cacheMs > 0) {
      this.#cache.set(key, { at: now, value });
      value.catch(() => this.#cache.delete(key));
      if (this.#cache.size > 10_000) {
        for (const [k, e] of this.#cache) if (now - e.at >= this.#cacheMs) this.#cache.delete(k);
      }
    }
    return value;
  }

  #select(query: string, params: unknown[]): Promise<types.Row[]> {
    this.stats.queries++;
    return selectAll(this.#client, query, params, { consistency: this.#consistency });
  }

  status(): Promise<RealtimeStatus> {
    return this.#cached("status", async () => {
      const rows = await this.#select(Q.status, [this.#group]);
      const status: StatusRow[] = rows.map((r) => ({
        topic: String(r.topic),
        partition: num(r.kpart),
        watermark: numOrNull(r.watermark),
        maxEventTime: numOrNull(r.max_event_time),
        lag: numOrNull(r.lag),
        lastDataAt: time(r.last_data_at),
        updatedAt: time(r.updated_at),
      }));
      return realtimeStatusOf(status, {
        now: this.#now(),
        idlePartitionMs: this.#idleMs,
        staleAfterMs: this.#staleMs,
      });
    });
  }

  minutes<V extends SeriesView>(
    view: V,
    key: ViewKeys[V],
    from: number,
    to: number,
  ): Promise<Map<number, ViewFigures[V]>> {
    const id = `${view}|${JSON.stringify(key)}|${from}|${to}`;
    return this.#cached(id, () => this.#minutes(view, key, from, to));
  }

  async #minutes<V extends SeriesView>(
    view: V,
    key: ViewKeys[V],
    from: number,
    to: number,
  ): Promise<Map<number, ViewFigures[V]>> {
    const ops = FIGURES[view] as FigureOps<ViewFigures[V]>;
    const out = new Map<number, ViewFigures[V]>();
    const add = (minute: number, f: ViewFigures[V]) => {
      let acc = out.get(minute);
      if (!acc) out.set(minute, acc = ops.zero());
      ops.addInto(acc, f);
    };
    if (view === "appEvents") {
      const k = key as ViewKeys["appEvents"];
      const keep = (r: types.Row) =>
        (k.eventType === undefined || r.event_type === k.eventType) &&
        (k.appType === undefined || r.app_type === k.appType);
      if (k.userId !== undefined) {
        for (const r of await this.#select(Q.appUser, [k.userId, new Date(from), new Date(to)])) {
          if (keep(r)) add(time(r.window_start)!, { count: num(r.event_count) } as ViewFigures[V]);
        }
      } else {
        // One partition per hour: read the hours of the range concurrently.
        const hours: number[] = [];
        for (let h = from - (((from % HOUR_MS) + HOUR_MS) % HOUR_MS); h < to; h += HOUR_MS) {
          hours.push(h);
        }
        const parts = await Promise.all(hours.map((h) =>
          this.#select(Q.appAll, [
            new Date(h),
            new Date(Math.max(from, h)),
            new Date(Math.min(to, h + HOUR_MS)),
          ])
        ));
        for (const rows of parts) {
          for (const r of rows) {
            if (keep(r)) add(time(r.minute)!, { count: num(r.event_count) } as ViewFigures[V]);
          }
        }
      }
      return out;
    }
    const [query, entity] = ENTITY_QUERY[view as keyof typeof ENTITY_QUERY];
    const rows = await this.#select(query, [
      (entity as (k: ViewKeys[V]) => string)(key),
      new Date(from),
      new Date(to),
    ]);
    for (const r of rows) {
      const [minute, f] = decode(view, r);
      add(minute, f);
    }
    return out;
  }

  sessions(userId: string, from: number, to: number): Promise<SessionRecord[]> {
    return this.#cached(`sessions|${userId}|${from}|${to}`, async () => {
      const rows = await this.#select(Q.sessions, [userId, new Date(from), new Date(to)]);
      return rows.map((r) => ({
        sessionId: String(r.session_id),
        userId,
        start: time(r.session_start)!,
        end: time(r.session_end) ?? time(r.session_start)!,
        durationSec: num(r.duration_sec),
        clicks: num(r.clicks),
        uniquePages: num(r.unique_pages),
        path: Array.isArray(r.path) ? r.path.map(String) : [],
      }));
    });
  }

  /** Readiness: Cassandra answers a trivial query. */
  async probe(): Promise<void> {
    await this.#client.execute("SELECT release_version FROM system.local");
  }
}
