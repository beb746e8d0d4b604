/**
 * @module
 * The batch store over OUTPUTS_DIR: the manifest (batch/outputs.ts) decides what is published;
 * view files are read with parquet-wasm and cached in memory. The manifest is re-checked (stat:
 * mtime, size, inode) at most every `checkIntervalMs`; a changed manifest gives a new snapshot at
 * once, without a restart. A snapshot only reads the files its manifest lists, so one answer never
 * mixes two publications. Entity lookups decode only the row groups holding the key; concurrent
 * lookups are batched per file with DataLoader.
 */
import DataLoader from "dataloader";
import type { Table } from "apache-arrow";
import {
  batchThrough as manifestBatchThrough,
  type Manifest,
  ManifestError,
  readManifest,
} from "../../../batch/outputs.ts";
import type { Logger } from "../../../shared/log.ts";
import { HOUR_MS, isoDate, parseHourKey, parseIsoDate } from "../../../shared/time.ts";
import { type FigureOps, FIGURES } from "../../merge/figures.ts";
import type {
  BatchSnapshot,
  BatchStore,
  DailySummaryRecord,
  SeriesView,
  SessionRecord,
  UserSegmentRecord,
  ViewFigures,
  ViewKeys,
} from "../../merge/types.ts";
import { Lru } from "../../merge/lru.ts";
import {
  APP_EVENT_COUNTS,
  ASSESSMENT_SCORES,
  COURSE_ENGAGEMENT,
  DAILY_SUMMARY,
  type HourViewLayout,
  RowReader,
  SESSIONS,
  USER_ACTIVITY,
  USER_SEGMENTATION,
  VIDEO_VIEWS,
} from "./layout.ts";
import { lowerBound, ViewFile } from "./view_file.ts";

const MANIFEST_FILE = "_manifest.json";

/** Options of {@link ParquetBatchStore}. */
export interface ParquetBatchStoreOptions {
  /** OUTPUTS_DIR. */
  outputsDir: string;
  /** Least time between two checks of the manifest's stat; default 500 ms. */
  checkIntervalMs?: number;
  /** Bytes of view files kept in memory; default 512 MiB. */
  maxFileBytes?: number;
  /** Decoded row groups kept; default 256. */
  maxRowGroups?: number;
  /** Decoded entities (one key's rows of one file) kept; default 50000. */
  maxEntities?: number;
  /** Clock for the check interval; default `Date.now`. */
  now?: () => number;
  logger?: Logger;
}

/** Counters for tests and metrics. */
export interface BatchStoreStats {
  manifestLoads: number;
  fileLoads: number;
  /** Row groups decoded (each decode reads one row group's column chunks). */
  rowGroupDecodes: number;
  /** Calls into parquet-wasm to decode row groups (batched per file). */
  decodeCalls: number;
  entityHits: number;
  entityMisses: number;
}

interface HourRow<F> {
  hour: number;
  figures: F;
}

interface AppRow {
  hour: number;
  eventType: string;
  appType: string;
  userId: string;
  count: number;
}

const SERIES_LAYOUT = {
  courseEngagement: COURSE_ENGAGEMENT,
  videoViews: VIDEO_VIEWS,
  assessmentScores: ASSESSMENT_SCORES,
  userActivity: USER_ACTIVITY,
} as const;

function entityOf(view: Exclude<SeriesView, "appEvents">, key: ViewKeys[SeriesView]): string {
  switch (view) {
    case "courseEngagement":
      return (key as ViewKeys["courseEngagement"]).courseId;
    case "videoViews":
      return (key as ViewKeys["videoViews"]).videoId;
    case "assessmentScores":
      return (key as ViewKeys["assessmentScores"]).assessmentId;
    case "userActivity":
      return (key as ViewKeys["userActivity"]).userId;
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The batch store of Parquet views and their manifest. */
export class ParquetBatchStore implements BatchStore {
  readonly #dir: string;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  #current: { stamp: string; hash: string; snapshot: BatchSnapshot } | null = null;
  #lastCheck = -Infinity;
  #checking: Promise<BatchSnapshot> | null = null;
  /** Why the manifest could not be read the last time, null when it could. */
  #problem: string | null = null;

  /** Opened files by path and key column, bounded by their bytes. */
  readonly #files: Lru<string, ViewFile>;
  readonly #loading = new Map<string, Promise<ViewFile>>();
  readonly #rowGroups: Lru<string, Table>;
  readonly #entities: Lru<string, unknown[]>;
  readonly #aggregates = new Lru<string, Promise<AppRow[]>>({ maxWeight: 64 });
  readonly #rowGroupLoader: DataLoader<string, Table>;
  readonly stats: BatchStoreStats = {
    manifestLoads: 0,
    fileLoads: 0,
    rowGroupDecodes: 0,
    decodeCalls: 0,
    entityHits: 0,
    entityMisses: 0,
  };

  constructor(options: ParquetBatchStoreOptions) {
    this.#dir = options.outputsDir.replace(/\/+$/, "");
    this.#interval = options.checkIntervalMs ?? 500;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger;
    this.#files = new Lru({
      maxWeight: options.maxFileBytes ?? 512 * 1024 * 1024,
      weigh: (f) => f.bytes.length,
    });
    this.#rowGroups = new Lru({ maxWeight: options.maxRowGroups ?? 256 });
    this.#entities = new Lru({ maxWeight: options.maxEntities ?? 50_000 });
    this.#rowGroupLoader = new DataLoader((keys) => this.#decodeRowGroups(keys), {
      cache: false,
    });
  }

  /** The path of the manifest. */
  get manifestPath(): string {
    return `${this.#dir}/${MANIFEST_FILE}`;
  }

  /**
   * Readiness: resolves when the manifest exists and is a valid manifest.
   * @throws {Error} saying why not
   */
  async probe(): Promise<void> {
    try {
      await Deno.stat(this.manifestPath);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(
          `batch manifest ${this.manifestPath} does not exist (no batch published yet)`,
        );
      }
      throw e;
    }
    await readManifest(this.#dir);
  }

  /** The current published version (re-checks the manifest at most every `checkIntervalMs`). */
  snapshot(): Promise<BatchSnapshot> {
    const now = this.#now();
    if (this.#current && now - this.#lastCheck < this.#interval) {
      return Promise.resolve(this.#current.snapshot);
    }
    this.#checking ??= this.#refresh().finally(() => {
      this.#lastCheck = this.#now();
      this.#checking = null;
    });
    return this.#checking;
  }

  async #refresh(): Promise<BatchSnapshot> {
    let stamp: string;
    try {
      const st = await Deno.stat(this.manifestPath);
      stamp = `${st.mtime?.getTime()}|${st.size}|${st.ino}`;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      stamp = "missing";
    }
    if (this.#current && this.#current.stamp === stamp) return this.#current.snapshot;
    let manifest: Manifest;
    try {
      manifest = await readManifest(this.#dir);
      this.#problem = null;
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      // Keep answering from the last good version; /ready reports the problem.
      if (this.#problem !== e.message) this.#log?.error("batch manifest unreadable", { error: e });
      this.#problem = e.message;
      if (this.#current) return this.#current.snapshot;
      manifest = { version: 3, updatedAt: new Date(0).toISOString(), hours: {}, days: {} };
    }
    this.stats.manifestLoads++;
    const hash = await sha256Hex(JSON.stringify(manifest));
    if (this.#current && this.#current.hash === hash) {
      this.#current = { ...this.#current, stamp };
      return this.#current.snapshot;
    }
    const previous = this.#current ? this.#current.snapshot : null;
    const snapshot = this.#snapshotOf(manifest, hash);
    this.#current = { stamp, hash, snapshot };
    this.#evictUnreferenced(manifest);
    this.#log?.info("batch manifest loaded", {
      batchThrough: snapshot.batchThrough === null
        ? null
        : new Date(snapshot.batchThrough).toISOString(),
      previousBatchThrough: previous?.batchThrough === null || previous === null
        ? null
        : new Date(previous.batchThrough).toISOString(),
      days: Object.keys(manifest.days).length,
    });
    return snapshot;
  }

  /** Drops cached files (and what was decoded from them) that the manifest no longer lists. */
  #evictUnreferenced(manifest: Manifest): void {
    const keep = new Set<string>();
    for (const day of Object.values(manifest.days)) {
      for (const e of Object.values(day.views)) {
        keep.add(this.#path(e.file));
        if (e.previousFile) keep.add(this.#path(e.previousFile));
      }
    }
    const listed = (k: string) => keep.has(k.split("\u0000")[0]);
    this.#files.retain(listed);
    this.#rowGroups.retain(listed);
    this.#entities.retain(listed);
    this.#aggregates.retain((p) => keep.has(p));
  }

  #path(file: string): string {
    return `${this.#dir}/${file}`;
  }

  async #file(path: string, keyColumn: string | null): Promise<ViewFile> {
    const id = `${path}\u0000${keyColumn ?? ""}`;
    const loaded = this.#files.get(id);
    if (loaded) return loaded;
    let loading = this.#loading.get(id);
    if (!loading) {
      this.stats.fileLoads++;
      loading = ViewFile.open(path, keyColumn).finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    const file = await loading;
    this.#files.set(id, file);
    return file;
  }

  /** DataLoader batch: decodes the requested row groups, one parquet-wasm call per file. */
  async #decodeRowGroups(keys: readonly string[]): Promise<(Table | Error)[]> {
    const byFile = new Map<string, Set<number>>();
    for (const k of keys) {
      const [id, rg] = k.split("#rg=");
      let set = byFile.get(id);
      if (!set) byFile.set(id, set = new Set());
      set.add(Number(rg));
    }
    const decoded = new Map<string, Table | Error>();
    await Promise.all([...byFile].map(async ([id, set]) => {
      const [path, keyColumn] = id.split("\u0000");
      try {
        const file = await this.#file(path, keyColumn || null);
        const indices = [...set].sort((a, b) => a - b);
        this.stats.decodeCalls++;
        this.stats.rowGroupDecodes += indices.length;
        const table = file.read(indices);
        let offset = 0;
        for (const i of indices) {
          const rows = file.rowGroups.find((r) => r.index === i)?.rows ?? 0;
          const part = table.slice(offset, offset + rows);
          offset += rows;
          decoded.set(`${id}#rg=${i}`, part);
          this.#rowGroups.set(`${id}#rg=${i}`, part);
        }
      } catch (e) {
        for (const i of set) decoded.set(`${id}#rg=${i}`, e as Error);
      }
    }));
    return keys.map((k) => decoded.get(k) ?? new Error(`row group ${k} not decoded`));
  }

  /** Rows of `key` in a file, decoded by `decode` (cached per file and key). */
  async #entityRows<T>(
    path: string,
    keyColumn: string,
    key: string,
    decode: (r: RowReader) => T,
  ): Promise<T[]> {
    const id = `${path}\u0000${keyColumn}`;
    const cacheKey = `${id}\u0000${key}`;
    const hit = this.#entities.get(cacheKey);
    if (hit) {
      this.stats.entityHits++;
      return hit as T[];
    }
    this.stats.entityMisses++;
    const file = await this.#file(path, keyColumn);
    const groups = file.rowGroupsFor(key);
    const tables = await Promise.all(groups.map((g) => {
      const k = `${id}#rg=${g.index}`;
      return this.#rowGroups.get(k) ?? this.#rowGroupLoader.load(k);
    }));
    const out: T[] = [];
    for (const table of tables) {
      const reader = new RowReader(table);
      const keys = table.getChild(keyColumn)!;
      for (let i = lowerBound(table, keyColumn, key); i < table.numRows; i++) {
        if (String(keys.get(i)) !== key) break;
        reader.row = i;
        out.push(decode(reader));
      }
    }
    this.#entities.set(cacheKey, out);
    return out;
  }

  /** App events of every user of a file summed per hour, event type and app type (cached). */
  #appAggregate(path: string): Promise<AppRow[]> {
    let p = this.#aggregates.get(path);
    if (!p) {
      p = this.#file(path, null).then((file) => {
        const table = file.readAll(APP_EVENT_COUNTS.columns);
        const sums = new Map<string, AppRow>();
        const r = new RowReader(table);
        for (let i = 0; i < table.numRows; i++) {
          r.row = i;
          const hour = r.time("hour"), eventType = r.str("event_type"), appType = r.str("app_type");
          const k = `${hour}|${eventType}|${appType}`;
          let row = sums.get(k);
          if (!row) sums.set(k, row = { hour, eventType, appType, userId: "", count: 0 });
          row.count += r.num("event_count");
        }
        return [...sums.values()];
      });
      this.#aggregates.set(path, p);
      p.catch(() => this.#aggregates.delete(path));
    }
    return p;
  }

  #snapshotOf(manifest: Manifest, hash: string): BatchSnapshot {
    const starts = Object.keys(manifest.hours).map(parseHourKey);
    const firstHour = starts.length === 0 ? null : Math.min(...starts);
    const through = manifestBatchThrough(manifest);
    const published = new Set(starts);
    // deno-lint-ignore no-this-alias
    const store = this;

    /** The file of a view for a date, with the hours it covers; null when not published. */
    function entry(view: string, date: string): { path: string; hours: Set<number> } | null {
      const e = manifest.days[date]?.views[view];
      if (!e) return null;
      const day = parseIsoDate(date);
      return { path: store.#path(e.file), hours: new Set(e.hours.map((h) => day + h * HOUR_MS)) };
    }

    function byDate(hours: readonly number[]): Map<string, Set<number>> {
      const out = new Map<string, Set<number>>();
      for (const h of hours) {
        if (!published.has(h)) continue;
        const d = isoDate(h);
        let set = out.get(d);
        if (!set) out.set(d, set = new Set());
        set.add(h);
      }
      return out;
    }

    async function seriesHours<V extends SeriesView>(
      view: V,
      key: ViewKeys[V],
      hours: readonly number[],
    ): Promise<Map<number, ViewFigures[V]>> {
      const ops = FIGURES[view] as FigureOps<ViewFigures[V]>;
      const out = new Map<number, ViewFigures[V]>();
      const add = (hour: number, f: ViewFigures[V]) => {
        let acc = out.get(hour);
        if (!acc) out.set(hour, acc = ops.zero());
        ops.addInto(acc, f);
      };
      await Promise.all([...byDate(hours)].map(async ([date, want]) => {
        if (view === "appEvents") {
          const k = key as ViewKeys["appEvents"];
          const e = entry(APP_EVENT_COUNTS.view, date);
          if (!e) return;
          const rows: AppRow[] = k.userId !== undefined
            ? await store.#entityRows(e.path, APP_EVENT_COUNTS.key, k.userId, (r) => {
              const { dims, count } = APP_EVENT_COUNTS.decode(r);
              return { hour: r.time("hour"), ...dims, count };
            })
            : await store.#appAggregate(e.path);
          for (const row of rows) {
            if (!want.has(row.hour) || !e.hours.has(row.hour)) continue;
            if (k.eventType !== undefined && k.eventType !== row.eventType) continue;
            if (k.appType !== undefined && k.appType !== row.appType) continue;
            add(row.hour, { count: row.count } as ViewFigures[V]);
          }
          return;
        }
        const layout = SERIES_LAYOUT[view as keyof typeof SERIES_LAYOUT] as HourViewLayout<
          ViewFigures[V]
        >;
        const e = entry(layout.view, date);
        if (!e) return;
        const rows = await store.#entityRows<HourRow<ViewFigures[V]>>(
          e.path,
          layout.key,
          entityOf(view as Exclude<SeriesView, "appEvents">, key),
          (r) => ({ hour: r.time("hour"), figures: layout.decode(r) }),
        );
        for (const row of rows) {
          if (want.has(row.hour) && e.hours.has(row.hour)) add(row.hour, row.figures);
        }
      }));
      return out;
    }

    async function sessions(userId: string, from: number, to: number): Promise<SessionRecord[]> {
      if (!(to > from)) return [];
      const dates: string[] = [];
      for (let d = parseIsoDate(isoDate(from)); d < to; d += 24 * HOUR_MS) dates.push(isoDate(d));
      const parts = await Promise.all(dates.map(async (date) => {
        const e = entry(SESSIONS.view, date);
        if (!e) return [];
        const rows = await store.#entityRows(e.path, SESSIONS.key, userId, SESSIONS.decode);
        return rows.filter((s) =>
          s.start >= from && s.start < to && e.hours.has(s.start - (s.start % HOUR_MS))
        );
      }));
      return parts.flat();
    }

    async function dailySummary(date: number): Promise<DailySummaryRecord | null> {
      const iso = isoDate(date);
      const e = entry(DAILY_SUMMARY.view, iso);
      if (!e) return null;
      const file = await store.#file(e.path, null);
      const table = file.readAll();
      const r = new RowReader(table);
      for (let i = 0; i < table.numRows; i++) {
        r.row = i;
        if (r.str("date") === iso) return DAILY_SUMMARY.decode(r, date);
      }
      return null;
    }

    async function userSegment(
      userId: string,
      date: number | null,
    ): Promise<UserSegmentRecord | null> {
      let iso: string | undefined;
      if (date === null) {
        iso = Object.keys(manifest.days).filter((d) =>
          manifest.days[d].views[USER_SEGMENTATION.view] !== undefined
        ).sort().pop();
        if (iso === undefined) return null;
      } else iso = isoDate(date);
      const e = entry(USER_SEGMENTATION.view, iso);
      if (!e) return null;
      const day = parseIsoDate(iso);
      const rows = await store.#entityRows(
        e.path,
        USER_SEGMENTATION.key,
        userId,
        (r) => USER_SEGMENTATION.decode(r, day),
      );
      return rows[0] ?? null;
    }

    return {
      version: hash,
      batchThrough: through,
      firstHour,
      hours: seriesHours,
      sessions,
      dailySummary,
      userSegment,
    };
  }
}
