/**
 * @module
 * Runs the batch views for days (or hours of a day) over the master dataset with DuckDB and
 * publishes them atomically. One day at a time, each under its own lock file.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { type ResolvedConfig, TOPIC_KEYS } from "../shared/config.ts";
import type { Logger } from "../shared/log.ts";
import { parseIsoDate } from "../shared/time.ts";
import { lit } from "./jobs/_sql.ts";
import { inPublishedHours, type ViewContext, type ViewDef } from "./jobs/_view.ts";
import { selectViews } from "./jobs/mod.ts";
import { sessionsSql } from "./jobs/merged_views.ts";
import { userHoursSql } from "./jobs/user_hours.ts";
import { acquireLock } from "./lock.ts";
import { type Manifest, readManifest } from "./manifest.ts";
import { ALL_HOURS, datesAround, planHours } from "./plan.ts";
import {
  cleanStaging,
  LOCK_DIR,
  publishDay,
  type PublishStage,
  sha256File,
  type StagedView,
  STAGING_DIR,
} from "./publish.ts";
import { registerSketchFunctions } from "./sketch_udf.ts";
import { enumTypes, inParallel, loadEvents, type LoadStats, topicTable } from "./source.ts";

/**
 * Target rows per Parquet row group of a view file. DuckDB may append a short remainder to a row
 * group, so with 4096 every group stays below 8192 rows (a lookup reads one small row group).
 */
export const ROW_GROUP_SIZE = 4096;

/** Queries run at once (topic loads, view writes), each on its own connection. */
const PARALLEL = 2;

/** What to compute. */
export interface BatchRequest {
  /** Days to run, in order. */
  dates: readonly string[];
  /** Hours per day for an hour run; days not listed run all 24 hours. */
  hours?: Readonly<Record<string, readonly number[]>>;
  /** `--jobs`; default all. */
  jobs?: readonly string[];
  /** Segmentation window in days; default 30. */
  lookbackDays?: number;
}

/** Options of {@link runBatch}; each has a real default. */
export interface RunOptions {
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** An hour is published once it ended this long ago; default 120000 ms. */
  settleMs?: number;
  /** How long to wait for a day's lock held by another run; default 0 (fail at once). */
  lockWaitMs?: number;
  /** Run id; default time-based plus random suffix. */
  runId?: () => string;
  /** Fault-injection seam: called at each publish stage. */
  pause?: (stage: PublishStage) => Promise<void>;
  /** Logger; default none. */
  log?: Logger;
  /** DuckDB threads; default DuckDB's (the number of cores). */
  threads?: number;
  /**
   * Close the DuckDB database at the end; default true. The CLI, which exits right after, passes
   * false: freeing the day's tables one by one takes ≈ 0.25 s at 10 M events, the exit releases
   * the memory at once (nothing is written by the close: the database is in memory and every
   * output file is complete when its COPY returns).
   */
  closeDatabase?: boolean;
}

/** Result of one day. */
export interface DayResult {
  date: string;
  runId: string;
  hours: number[];
  /** Requested hours not published because they have not ended yet. */
  notYet: number[];
  views: Record<string, { rows: number; sha256: string }>;
  load: LoadStats;
  /** Views skipped because the day is incomplete (daily views). */
  skipped: string[];
  ms: number;
}

function defaultRunId(now: number): string {
  const t = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${t}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Runs the request day by day; stops at the first failing day (earlier days stay published).
 * @throws {ArchiveReadError} when an archive file of a day is unreadable (that day is not published)
 * @throws {LockBusyError} when another run holds a day's lock beyond `lockWaitMs`
 */
export async function runBatch(
  cfg: Pick<ResolvedConfig, "dataDir" | "outputsDir" | "topics">,
  request: BatchRequest,
  options: RunOptions = {},
): Promise<DayResult[]> {
  const views = selectViews(request.jobs);
  const lookbackDays = request.lookbackDays ?? 30;
  if (!Number.isInteger(lookbackDays) || lookbackDays < 1 || lookbackDays > 366) {
    throw new RangeError(`Invalid lookback: expected 1..366 days, got ${lookbackDays}`);
  }
  for (const d of request.dates) parseIsoDate(d);
  // Row order inside DuckDB does not matter (every view is aggregated, then sorted on write), so
  // scans and inserts need not keep it.
  const db = await DuckDBInstance.create(":memory:", {
    preserve_insertion_order: "false",
    ...(options.threads ? { threads: String(options.threads) } : {}),
  });
  const results: DayResult[] = [];
  try {
    for (const date of request.dates) {
      results.push(
        await runDay(db, cfg, date, {
          views,
          lookbackDays,
          hours: request.hours?.[date],
          options,
        }),
      );
    }
  } finally {
    if (options.closeDatabase !== false) db.closeSync();
  }
  return results;
}

async function runDay(
  db: DuckDBInstance,
  cfg: Pick<ResolvedConfig, "dataDir" | "outputsDir" | "topics">,
  date: string,
  p: {
    views: ViewDef[];
    lookbackDays: number;
    hours: readonly number[] | undefined;
    options: RunOptions;
  },
): Promise<DayResult> {
  const { options } = p;
  const now = options.now ?? Date.now;
  const log = options.log?.child({ date });
  const t0 = performance.now();
  const lock = await acquireLock(`${cfg.outputsDir}/${LOCK_DIR}/day=${date}.lock`, {
    purpose: `batch ${date}`,
    waitMs: options.lockWaitMs ?? 0,
  });
  // Tables live in the process's in-memory database (not TEMP: those are per connection), so
  // topics load and views are written on PARALLEL connections at once.
  const conns = [];
  for (let i = 0; i < PARALLEL; i++) conns.push(await db.connect());
  const conn = conns[0];
  try {
    await cleanStaging(cfg.outputsDir, date);
    const manifest: Manifest = await readManifest(cfg.outputsDir);
    const plan = planHours(date, {
      requested: p.hours ?? ALL_HOURS,
      published: manifest.days[date]?.hours ?? [],
      now: now(),
      settleMs: options.settleMs ?? 120_000,
    });
    const runId = (options.runId ?? (() => defaultRunId(now())))();
    const ctx: ViewContext = {
      date,
      hours: plan.hours,
      topics: cfg.topics,
      lookbackDays: p.lookbackDays,
    };
    const skipped = plan.hours.length === 24
      ? []
      : p.views.filter((v) => v.daily).map((v) => v.name);
    const views = p.views.filter((v) => !skipped.includes(v.name));
    if (plan.notYet.length > 0) {
      log?.warn("hours not ended yet are not published", { hours: plan.notYet });
    }
    if (skipped.length > 0) log?.info("day incomplete: daily views skipped", { views: skipped });
    if (plan.hours.length === 0 || views.length === 0) {
      return {
        date,
        runId,
        hours: [],
        notYet: plan.notYet,
        views: {},
        load: { files: 0, rowsRead: 0, rows: 0 },
        skipped,
        ms: performance.now() - t0,
      };
    }
    const dateSet = new Set<string>();
    for (const v of views) {
      const [from, to] = v.reads(ctx);
      for (const d of datesAround(date, from, to)) dateSet.add(d);
    }
    const dates = [...dateSet].sort();
    for (const c of conns) {
      await c.run("SET TimeZone = 'UTC'");
      registerSketchFunctions(c);
    }
    const tl = performance.now();
    const load = await loadEvents(conns, cfg.dataDir, { dates, topics: cfg.topics });
    log?.info("events loaded", { ...load, dates, ms: Math.round(performance.now() - tl) });
    await conn.run(
      `CREATE OR REPLACE VIEW d_ev AS SELECT * FROM ev
       WHERE ${inPublishedHours(ctx)} AND tk IS NOT NULL`,
    );
    if (views.some((v) => v.needsSessions)) {
      const ts = performance.now();
      await conn.run(`CREATE OR REPLACE TABLE sess AS ${sessionsSql()}`);
      log?.debug("sessions computed", { ms: Math.round(performance.now() - ts) });
    }
    if (views.some((v) => v.needsUserHours)) {
      const tu = performance.now();
      await conn.run(`CREATE OR REPLACE TABLE uh AS ${userHoursSql()}`);
      log?.debug("user hours computed", { ms: Math.round(performance.now() - tu) });
    }
    const stageDir = `${cfg.outputsDir}/${STAGING_DIR}/${date}-${runId}`;
    await Deno.mkdir(stageDir, { recursive: true });
    const staged: StagedView[] = new Array(views.length);
    // The costliest views first, so the two connections finish together.
    const queue = views.map((v, i) => ({ v, i })).sort((a, b) =>
      (b.v.writeCost ?? 0) - (a.v.writeCost ?? 0)
    );
    await inParallel(conns, queue, async (c, { v, i }) => {
      const path = `${stageDir}/${v.name}.parquet`;
      const tv = performance.now();
      const rows = await writeView(c, v, ctx, path);
      staged[i] = { view: v.name, path, rows, sha256: await sha256File(path), hours: plan.hours };
      log?.debug("view computed", { view: v.name, rows, ms: Math.round(performance.now() - tv) });
    });
    await publishDay(cfg.outputsDir, date, runId, staged, { pause: options.pause, now });
    await Deno.remove(stageDir, { recursive: true }).catch(() => {});
    const result: DayResult = {
      date,
      runId,
      hours: plan.hours,
      notYet: plan.notYet,
      views: Object.fromEntries(staged.map((s) => [s.view, { rows: s.rows, sha256: s.sha256 }])),
      load,
      skipped,
      ms: performance.now() - t0,
    };
    log?.info("day published", {
      runId,
      hours: plan.hours.length,
      views: staged.length,
      ms: Math.round(result.ms),
    });
    return result;
  } finally {
    await conn.run("DROP VIEW IF EXISTS d_ev; DROP VIEW IF EXISTS ev").catch(() => {});
    for (const t of ["sess", "uh", ...TOPIC_KEYS.map(topicTable)]) {
      await conn.run(`DROP TABLE IF EXISTS ${t}`).catch(() => {});
    }
    for (const t of enumTypes()) await conn.run(`DROP TYPE IF EXISTS ${t}`).catch(() => {});
    for (const c of conns) c.closeSync();
    await lock.release();
  }
}

/** Computes one view into a Parquet file (sorted, small row groups); returns its row count. */
async function writeView(
  conn: Awaited<ReturnType<DuckDBInstance["connect"]>>,
  view: ViewDef,
  ctx: ViewContext,
  path: string,
): Promise<number> {
  const select = view.columns.map((c) => `CAST("${c.name}" AS ${c.type}) AS "${c.name}"`).join(
    ", ",
  );
  const order = view.sortKey.map((k) => `"${k}"`).join(", ");
  const r = await conn.runAndReadAll(
    `COPY (SELECT ${select} FROM (${view.sql(ctx)}) ORDER BY ${order})
     TO ${lit(path)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`,
  );
  return Number(r.getRows()[0]?.[0] ?? 0);
}
