/**
 * @module
 * In-memory batch and realtime stores with the semantics of the real ones, for unit tests and
 * demos: batch figures per hour, realtime figures per minute and Kafka partition (summed on read).
 */
import { HOUR_MS, MINUTE_MS } from "../../shared/time.ts";
import { batchExtent } from "./batch_through.ts";
import { type FigureOps, FIGURES } from "./figures.ts";
import type {
  AppEventDims,
  BatchSnapshot,
  BatchStore,
  DailySummaryRecord,
  RealtimeStatus,
  RealtimeStore,
  SeriesView,
  SessionRecord,
  UserSegmentRecord,
  ViewFigures,
  ViewKeys,
} from "./types.ts";

export type { AppEventDims };

function entityOf<V extends SeriesView>(view: V, key: ViewKeys[V]): string {
  switch (view) {
    case "courseEngagement":
      return (key as ViewKeys["courseEngagement"]).courseId;
    case "videoViews":
      return (key as ViewKeys["videoViews"]).videoId;
    case "assessmentScores":
      return (key as ViewKeys["assessmentScores"]).assessmentId;
    case "userActivity":
      return (key as ViewKeys["userActivity"]).userId;
    default:
      throw new TypeError(`entityOf: ${view} has no single entity`);
  }
}

/** Whether an app-events row matches the optional filters. */
export function matchesAppEvents(dims: AppEventDims, key: ViewKeys["appEvents"]): boolean {
  return (key.eventType === undefined || key.eventType === dims.eventType) &&
    (key.appType === undefined || key.appType === dims.appType) &&
    (key.userId === undefined || key.userId === dims.userId);
}

interface Stored<F> {
  entity: string;
  dims?: AppEventDims;
  t: number;
  kpart: number;
  figures: F;
}

function sumRows<V extends SeriesView>(
  view: V,
  key: ViewKeys[V],
  rows: readonly Stored<unknown>[],
  accept: (t: number) => boolean,
): Map<number, ViewFigures[V]> {
  const ops = FIGURES[view] as FigureOps<ViewFigures[V]>;
  const out = new Map<number, ViewFigures[V]>();
  for (const r of rows) {
    if (!accept(r.t)) continue;
    if (view === "appEvents") {
      if (!matchesAppEvents(r.dims!, key as ViewKeys["appEvents"])) continue;
    } else if (r.entity !== entityOf(view, key)) continue;
    let acc = out.get(r.t);
    if (!acc) out.set(r.t, acc = ops.zero());
    ops.addInto(acc, r.figures as ViewFigures[V]);
  }
  return out;
}

/** A batch store held in memory; `publish` makes hours visible, like a manifest update. */
export class MemoryBatchStore implements BatchStore {
  #rows = new Map<SeriesView, Stored<unknown>[]>();
  #published = new Set<number>();
  #sessions: SessionRecord[] = [];
  #daily = new Map<number, DailySummaryRecord>();
  #segments: UserSegmentRecord[] = [];
  #version = 0;
  /** Number of `hours` reads, for tests of caching and batching. */
  reads = 0;

  /** Adds an hour row of a view (the hour need not be published yet). */
  add<V extends Exclude<SeriesView, "appEvents">>(
    view: V,
    entity: string,
    hour: number,
    figures: ViewFigures[V],
  ): this {
    this.#push(view, { entity, t: hour, kpart: 0, figures });
    return this;
  }

  /** Adds an app-events hour row. */
  addAppEvents(hour: number, dims: AppEventDims, count: number): this {
    this.#push("appEvents", { entity: "", dims, t: hour, kpart: 0, figures: { count } });
    return this;
  }

  addSession(s: SessionRecord): this {
    this.#sessions.push(s);
    this.#version++;
    return this;
  }

  addDailySummary(d: DailySummaryRecord): this {
    this.#daily.set(d.date, d);
    this.#version++;
    return this;
  }

  addUserSegment(s: UserSegmentRecord): this {
    this.#segments.push(s);
    this.#version++;
    return this;
  }

  /** Publishes every hour of `[from, to)`. */
  publish(from: number, to: number): this {
    for (let h = from; h < to; h += HOUR_MS) this.#published.add(h);
    this.#version++;
    return this;
  }

  #push(view: SeriesView, row: Stored<unknown>): void {
    if (row.t % HOUR_MS !== 0) throw new RangeError(`batch rows are per hour, got ${row.t}`);
    let list = this.#rows.get(view);
    if (!list) this.#rows.set(view, list = []);
    list.push(row);
    this.#version++;
  }

  snapshot(): Promise<BatchSnapshot> {
    const published = new Set(this.#published);
    const rows = new Map([...this.#rows].map(([v, list]) => [v, [...list]]));
    const sessions = [...this.#sessions];
    const daily = new Map(this.#daily);
    const segments = [...this.#segments];
    const { firstHour, batchThrough } = batchExtent(published);
    const isPublishedDay = (day: number) => published.has(day) || daily.has(day);
    // deno-lint-ignore no-this-alias
    const store = this;
    return Promise.resolve({
      version: String(this.#version),
      firstHour,
      batchThrough,
      hours<V extends SeriesView>(view: V, key: ViewKeys[V], hours: readonly number[]) {
        store.reads++;
        const want = new Set(hours.filter((h) => published.has(h)));
        return Promise.resolve(sumRows(view, key, rows.get(view) ?? [], (t) => want.has(t)));
      },
      sessions(userId: string, from: number, to: number) {
        return Promise.resolve(
          sessions.filter((s) =>
            s.userId === userId && s.start >= from && s.start < to &&
            published.has(s.start - (s.start % HOUR_MS))
          ),
        );
      },
      dailySummary(date: number) {
        return Promise.resolve(daily.get(date) ?? null);
      },
      userSegment(userId: string, date: number | null) {
        const mine = segments.filter((s) => s.userId === userId && isPublishedDay(s.date));
        const pick = date === null
          ? mine.sort((a, b) => b.date - a.date)[0]
          : mine.find((s) => s.date === date);
        return Promise.resolve(pick ?? null);
      },
    });
  }
}

/** A realtime store held in memory: rows per minute and Kafka partition, summed on read. */
export class MemoryRealtimeStore implements RealtimeStore {
  #rows = new Map<SeriesView, Stored<unknown>[]>();
  #sessions: SessionRecord[] = [];
  /** The status `status()` reports; tests set it. */
  state: RealtimeStatus = { watermark: null, newestEventTime: null, live: true, lag: [] };

  /** Sets (replaces) one partition's row of a view for a minute, like an idempotent upsert. */
  put<V extends Exclude<SeriesView, "appEvents">>(
    view: V,
    entity: string,
    minute: number,
    kpart: number,
    figures: ViewFigures[V],
  ): this {
    this.#upsert(view, { entity, t: minute, kpart, figures }, (r) => r.entity === entity);
    return this;
  }

  /** Sets one partition's app-events count for a minute and dimensions. */
  putAppEvents(minute: number, dims: AppEventDims, kpart: number, count: number): this {
    this.#upsert(
      "appEvents",
      { entity: "", dims, t: minute, kpart, figures: { count } },
      (r) =>
        r.dims!.eventType === dims.eventType && r.dims!.appType === dims.appType &&
        r.dims!.userId === dims.userId,
    );
    return this;
  }

  putSession(s: SessionRecord): this {
    this.#sessions = this.#sessions.filter((x) =>
      !(x.userId === s.userId && x.sessionId === s.sessionId && x.start === s.start)
    );
    this.#sessions.push(s);
    return this;
  }

  #upsert(view: SeriesView, row: Stored<unknown>, same: (r: Stored<unknown>) => boolean): void {
    if (row.t % MINUTE_MS !== 0) throw new RangeError(`realtime rows are per minute, got ${row.t}`);
    let list = this.#rows.get(view);
    if (!list) this.#rows.set(view, list = []);
    const i = list.findIndex((r) => r.t === row.t && r.kpart === row.kpart && same(r));
    if (i >= 0) list[i] = row;
    else list.push(row);
  }

  status(): Promise<RealtimeStatus> {
    return Promise.resolve(structuredClone(this.state));
  }

  minutes<V extends SeriesView>(
    view: V,
    key: ViewKeys[V],
    from: number,
    to: number,
  ): Promise<Map<number, ViewFigures[V]>> {
    return Promise.resolve(
      sumRows(view, key, this.#rows.get(view) ?? [], (t) => t >= from && t < to),
    );
  }

  sessions(userId: string, from: number, to: number): Promise<SessionRecord[]> {
    return Promise.resolve(
      this.#sessions.filter((s) => s.userId === userId && s.start >= from && s.start < to),
    );
  }
}
