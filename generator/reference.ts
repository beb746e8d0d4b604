/**
 * @module
 * The reference calculator: exact expected answers for the platform, computed from the produced
 * records alone. It validates with `parseEvent` exactly as the processors do, builds the BATCH and
 * REALTIME event sets of DESIGN.md (_reference_sets.ts) and answers every GraphQL field of
 * CONTRACTS.md §4 with the merge rule at a given `batchThrough`. It imports nothing from
 * processors/, batch/ or serving/, so the platform is checked against an independent computation.
 *
 * @example
 * ```ts
 * import { generate } from "./generate.ts";
 * import { Reference } from "./reference.ts";
 * const start = Date.parse("2026-11-20T00:00:00Z");
 * const records = [...generate({ seed: 1, startMs: start, endMs: start + 7_200_000 })];
 * const ref = new Reference(records, { now: start + 7_200_000 });
 * const counts = ref.eventCounts({ from: start, to: start + 7_200_000, granularity: "HOUR" }, start + 3_600_000);
 * console.log(counts.total, counts.points.map((p) => p.source)); // [BATCH, REALTIME]
 * ```
 */
import { TOPIC_KEYS, type TopicKey } from "../shared/config.ts";
import type { RejectReason } from "../shared/events.ts";
import { bucketStarts, DAY_MS, HOUR_MS, MINUTE_MS, parseIsoDate } from "../shared/time.ts";
import {
  type ActivityFigures,
  activityFigures,
  type AssessmentFigures,
  assessmentFigures,
  type CourseFigures,
  courseFigures,
  type FunnelFigures,
  funnelFigures,
  percentile,
  type RefSession,
  sessionsOf,
  type VideoFigures,
  videoFigures,
} from "./_reference_figures.ts";
import {
  bucketRows,
  type BucketView,
  compareRows,
  type Grain,
  type Row,
} from "./_reference_rows.ts";
import {
  buildSets,
  type EventSets,
  type ReferenceInput,
  type ReferenceOptions,
  type RefEvent,
  type RefRejection,
} from "./_reference_sets.ts";
import { segmentOf, type SegmentOptions, type UserSegment } from "./_reference_segment.ts";

export type {
  ReferenceInput,
  ReferenceOptions,
  RefEvent,
  RefRejection,
  RefSession,
  Row,
  UserSegment,
};
export type { ActivityFigures, AssessmentFigures, CourseFigures, FunnelFigures, VideoFigures };
export { percentile };

export type Granularity = "MINUTE" | "HOUR" | "DAY";
export type Source = "BATCH" | "REALTIME" | "MIXED";
/** Which event set answers: the merge rule (default), or one layer alone. */
export type Semantics = "batch" | "realtime";

/** A time range `[from, to)` in epoch ms and the bucket size (default HOUR). */
export interface RangeArgs {
  from: number;
  to: number;
  granularity?: Granularity;
}
export interface EventCountArgs extends RangeArgs {
  eventType?: string;
  appType?: string;
  userId?: string;
}

/** A bucket `[start, end)` (clipped to the range) and the layer(s) that answered it. */
export interface Bucket {
  start: number;
  end: number;
  source: Source;
}
export type EventCountPoint = Bucket & { count: number };
export interface EventCounts {
  total: number;
  points: EventCountPoint[];
}
/** A series: the figures per bucket and over the whole range. */
export interface Series<F> {
  total: Bucket & F;
  points: Array<Bucket & F>;
}
export type UserActivity = Series<ActivityFigures> & { userId: string; lastSeen: number | null };

/** The batch-only daily summary (see generator/README.md). */
export interface DailySummary {
  date: string;
  totalEvents: number;
  activeUsers: number;
  sessions: number;
  avgSessionDurationSec: number | null;
  p95SessionDurationSec: number | null;
  eventsByType: Array<{ key: string; count: number }>;
  logins: number;
  enrollments: number;
  completions: number;
}

/** Realtime tables whose rows {@link Reference.realtimeRows} returns. */
export type RealtimeView = BucketView | "clickstream_sessions" | "late_events";

/** Stream views and the input topics whose late events they count (`late_events.view`). */
export const LATE_VIEW_TOPICS: Readonly<Record<string, readonly TopicKey[]>> = {
  event_aggregation: ["APP_EVENTS"],
  clickstream_analysis: ["CLICKSTREAM"],
  user_activity: TOPIC_KEYS.filter((t) => t !== "CDC"),
  course_engagement: ["COURSE", "VIDEO", "ASSESSMENT"],
  video_views: ["VIDEO"],
  assessment_scores: ["ASSESSMENT"],
  notifications: ["NOTIFICATION"],
};

const SIZE: Record<Granularity, number> = { MINUTE: MINUTE_MS, HOUR: HOUR_MS, DAY: DAY_MS };

/** Events of one set, indexed by entity; every list is sorted by event time. */
class Index {
  readonly all: RefEvent[];
  readonly app: RefEvent[] = [];
  readonly byUser = new Map<string, RefEvent[]>();
  readonly byCourse = new Map<string, RefEvent[]>();
  readonly byVideo = new Map<string, RefEvent[]>();
  readonly byAssessment = new Map<string, RefEvent[]>();
  readonly byChannel = new Map<string, RefEvent[]>();
  #sessions?: RefSession[];

  constructor(events: RefEvent[]) {
    this.all = events;
    const add = (m: Map<string, RefEvent[]>, k: string | undefined, e: RefEvent) => {
      if (k === undefined) return;
      let l = m.get(k);
      if (!l) m.set(k, l = []);
      l.push(e);
    };
    for (const e of events) {
      if (e.topic === "CDC") continue;
      add(this.byUser, e.userId, e);
      if (e.topic === "APP_EVENTS") this.app.push(e);
      if (e.topic === "COURSE" || e.topic === "VIDEO" || e.topic === "ASSESSMENT") {
        add(this.byCourse, e.courseId, e);
      }
      if (e.topic === "VIDEO") add(this.byVideo, e.videoId, e);
      if (e.topic === "ASSESSMENT") add(this.byAssessment, e.assessmentId, e);
      if (e.topic === "NOTIFICATION") add(this.byChannel, e.channel, e);
    }
  }

  /** Every clickstream session of this set (over all its clicks). */
  sessions(): RefSession[] {
    return this.#sessions ??= sessionsOf(this.all.filter((e) => e.topic === "CLICKSTREAM"));
  }
}

/** Events of a time-sorted list with event time in `[from, to)`. */
function within(list: readonly RefEvent[] | undefined, from: number, to: number): RefEvent[] {
  if (!list || from >= to) return [];
  const lower = (t: number) => {
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].eventTime < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return list.slice(lower(from), lower(to));
}

/** The exact expected state of the platform after it consumed `records`. */
export class Reference {
  /** The validated, deduplicated event sets. */
  readonly sets: EventSets;
  readonly #batch: Index;
  readonly #realtime: Index;

  /**
   * @param records the produced records in per-partition offset order
   * @param options lateness, dedup window and the `now` of the future check
   */
  constructor(records: Iterable<ReferenceInput>, options: ReferenceOptions = {}) {
    this.sets = buildSets(records, options);
    this.#batch = new Index(this.sets.batch);
    this.#realtime = new Index(this.sets.realtime);
  }

  /**
   * The merge rule of CONTRACTS.md §4 for any figure: per bucket, events before `batchThrough`
   * from the batch set and at/after it from the realtime set. MINUTE, or `batchThrough` null
   * (nothing published), answers from the realtime set alone; `semantics` forces one set.
   */
  #merged<F>(
    pick: (ix: Index) => readonly RefEvent[] | undefined,
    args: RangeArgs,
    batchThrough: number | null,
    figure: (events: RefEvent[]) => F,
    semantics?: Semantics,
  ): Series<F> {
    const { from, to } = args;
    const granularity = args.granularity ?? "HOUR";
    if (!(to > from)) {
      throw new RangeError(`Cannot query: 'to' (${to}) must be after 'from' (${from})`);
    }
    if (!(granularity in SIZE)) {
      throw new RangeError(`Cannot query: unknown granularity "${granularity}"`);
    }
    const B = semantics === "batch"
      ? Infinity
      : semantics === "realtime" || granularity === "MINUTE" || batchThrough === null
      ? -Infinity
      : batchThrough;
    const batchList = pick(this.#batch);
    const rtList = pick(this.#realtime);
    const points: Array<Bucket & F> = [];
    const everything: RefEvent[] = [];
    const sources = new Set<Source>();
    for (const s of bucketStarts(from, to, SIZE[granularity])) {
      const start = Math.max(s, from);
      const end = Math.min(s + SIZE[granularity], to);
      const fromBatch = within(batchList, start, Math.min(end, B));
      const fromRt = within(rtList, Math.max(start, B), end);
      const source: Source = end <= B ? "BATCH" : start >= B ? "REALTIME" : "MIXED";
      sources.add(source);
      const events = [...fromBatch, ...fromRt];
      everything.push(...events);
      points.push({ start, end, source, ...figure(events) });
    }
    const source: Source = sources.size === 1 ? [...sources][0] : "MIXED";
    return { total: { start: from, end: to, source, ...figure(everything) }, points };
  }

  /** `eventCounts`: app events, optionally filtered by event type, app type and user. */
  eventCounts(
    args: EventCountArgs,
    batchThrough: number | null,
    semantics?: Semantics,
  ): EventCounts {
    const keep = (e: RefEvent) =>
      (args.eventType === undefined || e.eventType === args.eventType) &&
      (args.appType === undefined || e.appType === args.appType) &&
      (args.userId === undefined || e.userId === args.userId);
    const s = this.#merged(
      (ix) =>
        args.userId === undefined
          ? ix.app
          : ix.byUser.get(args.userId)?.filter((e) => e.topic === "APP_EVENTS"),
      args,
      batchThrough,
      (events) => ({ count: events.filter(keep).length }),
      semantics,
    );
    return { total: s.total.count, points: s.points };
  }

  /** `courseEngagement` (plus `progressEvents` and the exact active user ids). */
  courseEngagement(
    args: RangeArgs & { courseId: string },
    batchThrough: number | null,
    semantics?: Semantics,
  ): Series<CourseFigures> & { courseId: string } {
    const s = this.#merged(
      (ix) => ix.byCourse.get(args.courseId),
      args,
      batchThrough,
      courseFigures,
      semantics,
    );
    return { courseId: args.courseId, ...s };
  }

  /** `videoViews` (plus `pauses` and the exact viewer ids). */
  videoViews(
    args: RangeArgs & { videoId: string },
    batchThrough: number | null,
    semantics?: Semantics,
  ): Series<VideoFigures> & { videoId: string } {
    const s = this.#merged(
      (ix) => ix.byVideo.get(args.videoId),
      args,
      batchThrough,
      videoFigures,
      semantics,
    );
    return { videoId: args.videoId, ...s };
  }

  /** `assessmentScores` (plus started/submitted counts and the exact percent list). */
  assessmentScores(
    args: RangeArgs & { assessmentId: string },
    batchThrough: number | null,
    semantics?: Semantics,
  ): Series<AssessmentFigures> & { assessmentId: string } {
    const s = this.#merged(
      (ix) => ix.byAssessment.get(args.assessmentId),
      args,
      batchThrough,
      assessmentFigures,
      semantics,
    );
    return { assessmentId: args.assessmentId, ...s };
  }

  /** `userActivity`: every topic except CDC; `lastSeen` over the range. */
  userActivity(
    args: RangeArgs & { userId: string },
    batchThrough: number | null,
    semantics?: Semantics,
  ): UserActivity {
    const s = this.#merged(
      (ix) => ix.byUser.get(args.userId),
      args,
      batchThrough,
      activityFigures,
      semantics,
    );
    return { userId: args.userId, lastSeen: s.total.lastSeen, ...s };
  }

  /** Notification funnel of a channel (the `realtime_notification_funnel` view). */
  notificationFunnel(
    args: RangeArgs & { channel: string },
    batchThrough: number | null,
    semantics?: Semantics,
  ): Series<FunnelFigures> & { channel: string } {
    const s = this.#merged(
      (ix) => ix.byChannel.get(args.channel),
      args,
      batchThrough,
      funnelFigures,
      semantics,
    );
    return { channel: args.channel, ...s };
  }

  /**
   * `sessions`: the user's clickstream sessions whose start is in `[from, to)`. Sessions starting
   * before `batchThrough` come from the batch set, the others from the realtime set (each set's
   * sessions are computed over all of its clicks).
   */
  sessions(
    userId: string,
    range: { from: number; to: number },
    batchThrough: number | null,
    semantics?: Semantics,
  ): RefSession[] {
    const B = semantics === "batch"
      ? Infinity
      : semantics === "realtime" || batchThrough === null
      ? -Infinity
      : batchThrough;
    const pick = (ix: Index, lo: number, hi: number) =>
      sessionsOf((ix.byUser.get(userId) ?? []).filter((e) => e.topic === "CLICKSTREAM"))
        .filter((s) => s.start >= lo && s.start < hi);
    return [
      ...pick(this.#batch, range.from, Math.min(range.to, B)),
      ...pick(this.#realtime, Math.max(range.from, B), range.to),
    ];
  }

  /** `dailySummary` of a `YYYY-MM-DD` date, from the batch set (see generator/README.md). */
  dailySummary(date: string): DailySummary {
    const day = parseIsoDate(date);
    const events = within(this.#batch.all, day, day + DAY_MS).filter((e) => e.topic !== "CDC");
    const sessions = this.#batch.sessions().filter((s) => s.start >= day && s.start < day + DAY_MS);
    const durations = sessions.map((s) => s.durationSec);
    const byType = new Map<string, number>();
    for (const e of events) {
      if (e.topic === "APP_EVENTS") byType.set(e.eventType!, (byType.get(e.eventType!) ?? 0) + 1);
    }
    const count = (topic: TopicKey, action: string) =>
      events.filter((e) => e.topic === topic && e.action === action).length;
    return {
      date,
      totalEvents: events.length,
      activeUsers: new Set(events.map((e) => e.userId)).size,
      sessions: sessions.length,
      avgSessionDurationSec: durations.length
        ? durations.reduce((a, b) => a + b, 0) / durations.length
        : null,
      p95SessionDurationSec: percentile(durations, 0.95),
      eventsByType: [...byType].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([key, n]) => ({
        key,
        count: n,
      })),
      logins: count("AUTH", "login"),
      enrollments: count("COURSE", "enrolled"),
      completions: count("COURSE", "completed"),
    };
  }

  /**
   * `userSegment` of a user on a date, from the batch set, by the formula of generator/README.md;
   * null when the user has no event in the lookback window.
   */
  userSegment(userId: string, date: string, options: SegmentOptions = {}): UserSegment | null {
    const events = this.#batch.byUser.get(userId) ?? [];
    const sessions = this.#batch.sessions().filter((s) => s.userId === userId);
    return segmentOf(userId, date, events, sessions, options);
  }

  /** Users with any non-CDC event in either set, sorted. */
  userIds(): string[] {
    return [...new Set([...this.#batch.byUser.keys(), ...this.#realtime.byUser.keys()])].sort();
  }

  /**
   * Expected rows of a realtime table, summed over partitions and keyed as in Cassandra.
   * `late_events` rows are `{view, hour, topic, late}` with the views of {@link LATE_VIEW_TOPICS}.
   */
  realtimeRows(view: RealtimeView): Row[] {
    return this.rows(view, "realtime", "minute");
  }

  /** Rows of a view for either event set, at minute or hour grain. */
  rows(view: RealtimeView, semantics: Semantics = "realtime", grain: Grain = "minute"): Row[] {
    const ix = semantics === "batch" ? this.#batch : this.#realtime;
    if (view === "late_events") return semantics === "batch" ? [] : this.#lateRows();
    if (view === "clickstream_sessions") {
      return ix.sessions().map((s) => ({
        user_id: s.userId,
        session_start: s.start,
        session_id: s.sessionId,
        session_end: s.end,
        duration_sec: s.durationSec,
        clicks: s.clicks,
        unique_pages: s.uniquePages,
        path: s.path,
      })).sort(compareRows);
    }
    return bucketRows(ix.all, view, grain);
  }

  #lateRows(): Row[] {
    const counts = new Map<string, number>();
    for (const { event, hour } of this.sets.late) {
      for (const [view, topics] of Object.entries(LATE_VIEW_TOPICS)) {
        if (!topics.includes(event.topic)) continue;
        const k = `${view}\u0000${hour}\u0000${event.topic}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    return [...counts].map(([k, late]) => {
      const [view, hour, topic] = k.split("\u0000");
      return { view, hour: Number(hour), topic, late };
    }).sort(compareRows);
  }

  /** Rejected records per topic and reason (the processors' DLQ metric). */
  rejectedCounts(): Record<TopicKey, Partial<Record<RejectReason, number>>> {
    const out = Object.fromEntries(TOPIC_KEYS.map((t) => [t, {}])) as Record<
      TopicKey,
      Partial<Record<RejectReason, number>>
    >;
    for (const r of this.sets.rejected) out[r.topic][r.reason] = (out[r.topic][r.reason] ?? 0) + 1;
    return out;
  }

  /** The expected contents of `<topic>.dlq`, per source partition in offset order. */
  dlq(topic: TopicKey): RefRejection[] {
    return this.sets.rejected.filter((r) => r.topic === topic)
      .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  }
}
