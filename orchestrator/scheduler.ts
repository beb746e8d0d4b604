/**
 * @module
 * The batch schedule as pure functions over a plain, JSON-able {@link SchedulerState}: which runs
 * are due at a given instant (oldest first), when to wake next, and how a run's outcome changes the
 * state (retries with exponential backoff, then "failed" until the next hourly tick). No clock, no
 * IO: the caller passes `now` and what the batch manifest says is published.
 *
 * Two schedules:
 * - `hourly`: slot = an hour `[H, H+1h)`, due at `H + 1h + hourlyDelay`; runs the hourly jobs for it.
 *   When a whole UTC day of hours is due and none of them has been tried yet (catch-up after
 *   downtime), the 24 hours are run as one `--date` run.
 * - `daily`: slot = a day `[D, D+1d)`, due at `D + 1d + dailyAt`; runs the daily jobs for it.
 */
import type { BatchJob } from "../shared/config.ts";
import { DAY_MS, floorDay, floorHour, HOUR_MS, hourKey, isoDate } from "../shared/time.ts";

export type ScheduleKind = "hourly" | "daily";
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ["hourly", "daily"];

/** Status of one slot. */
export type SlotStatus = "pending" | "running" | "retrying" | "failed" | "succeeded";

/** What the scheduler remembers about one slot that is not yet folded behind its cursor. */
export interface SlotRecord {
  status: SlotStatus;
  /** Failed attempts in the current round (reset when the round ends in "failed"). */
  attempts: number;
  /** Failed attempts in total. */
  failures: number;
  /** Not to be tried before this instant (retry backoff, or the next tick after a failed round). */
  notBefore?: number;
  lastError?: string;
  /** Who runs it now (informational; the run lock is what prevents double runs). */
  owner?: string;
  startedAt?: number;
}

/** The outcome of a finished or interrupted run. */
export type RunOutcome = "succeeded" | "failed" | "interrupted";

/** The last run of a schedule, for `/health`. */
export interface RunSummary {
  key: string;
  args: string[];
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  outcome: RunOutcome;
  error?: string;
  owner?: string;
}

/** The persisted scheduler state (the orchestrator state file). */
export interface SchedulerState {
  version: 1;
  /** Per schedule: the first slot not known to be done. Slots before it are done or out of scope. */
  cursors: Partial<Record<ScheduleKind, number>>;
  /** Records of slots at or after their cursor, by slot key. */
  slots: Record<string, SlotRecord>;
  /** The last finished run of each schedule. */
  last: Partial<Record<ScheduleKind, RunSummary>>;
}

/** What the batch manifest says is published. */
export interface Published {
  /** Published hours as manifest keys `YYYY-MM-DDTHH`. */
  hours: ReadonlySet<string>;
  /** Published views per day `YYYY-MM-DD`. */
  days: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Options of the schedule. */
export interface ScheduleOptions {
  /** An hour is due this long after it ends. */
  hourlyDelayMs: number;
  /** A day is due this long after the following midnight. */
  dailyAtMs: number;
  /** Jobs of an hourly run; empty disables the hourly schedule. */
  hourlyJobs: readonly BatchJob[];
  /** Jobs of a daily run; empty disables the daily schedule. */
  dailyJobs: readonly BatchJob[];
  /** Failed attempts before a slot is marked failed for this round. */
  maxAttempts: number;
  /** First retry delay; doubled per further failure. */
  retryBaseMs: number;
  /** Bound of the retry delay. */
  retryMaxMs: number;
  /** Extra arguments of daily runs (e.g. `--lookback-days 30`); default none. */
  dailyExtraArgs?: readonly string[];
  /** Extra arguments of every run (e.g. `--wait-seconds 300`); default none. */
  commonArgs?: readonly string[];
}

/** One batch run to start: a `deno task batch` invocation covering one or more slots. */
export interface PlannedRun {
  /** Unique name of the run, e.g. `hourly:2026-11-20T05`, `hourly:2026-11-20` (a day of hours). */
  key: string;
  kind: ScheduleKind;
  /** Slot starts (ms) it covers, ascending: 1 hour, 24 hours, or 1 day. */
  slots: number[];
  /** Arguments after `deno task batch`. */
  args: string[];
  jobs: BatchJob[];
  /** When its oldest slot became due. */
  dueAt: number;
}

/** The result of {@link plan}. */
export interface Plan {
  /** Runs that may start now, oldest first. */
  runnable: PlannedRun[];
  /** Slots due but waiting (retry backoff or a failed round), by kind. */
  waiting: Record<ScheduleKind, number>;
  /** Slots due and not done, by kind (runnable or waiting). */
  behind: Record<ScheduleKind, number>;
  /** Slots in a failed round, by kind. */
  failed: Record<ScheduleKind, number>;
  /** The next instant something becomes runnable (a slot due or a backoff over). */
  nextWakeAt: number;
  /** The next slot that becomes due, by kind (for `/health`). */
  nextDue: Partial<Record<ScheduleKind, { key: string; at: number }>>;
}

/** An empty state. */
export function emptyState(): SchedulerState {
  return { version: 1, cursors: {}, slots: {}, last: {} };
}

/** The key of a slot, e.g. `hourly:2026-11-20T05` or `daily:2026-11-20`. */
export function slotKey(kind: ScheduleKind, slot: number): string {
  return kind === "hourly" ? `hourly:${hourKey(slot)}` : `daily:${isoDate(slot)}`;
}

function jobsOf(kind: ScheduleKind, o: ScheduleOptions): readonly BatchJob[] {
  return kind === "hourly" ? o.hourlyJobs : o.dailyJobs;
}

function stepOf(kind: ScheduleKind): number {
  return kind === "hourly" ? HOUR_MS : DAY_MS;
}

/** When a slot becomes due. */
export function dueAt(kind: ScheduleKind, slot: number, o: ScheduleOptions): number {
  return kind === "hourly" ? slot + HOUR_MS + o.hourlyDelayMs : slot + DAY_MS + o.dailyAtMs;
}

/** The latest slot of `kind` that is due at `now`. */
export function latestDueSlot(kind: ScheduleKind, now: number, o: ScheduleOptions): number {
  return kind === "hourly"
    ? floorHour(now - o.hourlyDelayMs - HOUR_MS)
    : floorDay(now - o.dailyAtMs - DAY_MS);
}

/** The next hourly tick strictly after `now` (when failed rounds are tried again). */
export function nextTick(now: number, o: Pick<ScheduleOptions, "hourlyDelayMs">): number {
  return floorHour(now - o.hourlyDelayMs) + HOUR_MS + o.hourlyDelayMs;
}

/** Delay before retry number `attempt` (1-based): base · 2^(attempt−1), bounded. */
export function retryDelay(attempt: number, o: ScheduleOptions): number {
  return Math.min(o.retryBaseMs * 2 ** Math.max(0, attempt - 1), o.retryMaxMs);
}

/** Whether a slot is done: succeeded here, or published in the manifest. */
export function isDone(
  state: SchedulerState,
  kind: ScheduleKind,
  slot: number,
  published: Published,
  o: ScheduleOptions,
): boolean {
  if (state.slots[slotKey(kind, slot)]?.status === "succeeded") return true;
  if (kind === "hourly") return published.hours.has(hourKey(slot));
  const views = published.days.get(isoDate(slot));
  // A day published by someone else counts when its daily views are there (the recompute part of a
  // daily run cannot be seen in the manifest, so it is not required).
  const daily = o.dailyJobs.filter((j) => j === "daily_summary" || j === "user_segmentation");
  return views !== undefined && daily.length > 0 && daily.every((j) => views.has(j));
}

/**
 * Sets the cursor of each enabled schedule that has none (a first start) to `origin`, floored to
 * its slot. Existing cursors are kept, so downtime is caught up from where it stopped.
 */
export function ensureCursors(
  state: SchedulerState,
  origin: Partial<Record<ScheduleKind, number>>,
  o: ScheduleOptions,
): SchedulerState {
  const next = structuredClone(state);
  for (const kind of SCHEDULE_KINDS) {
    const at = origin[kind];
    if (jobsOf(kind, o).length === 0 || next.cursors[kind] !== undefined || at === undefined) {
      continue;
    }
    next.cursors[kind] = kind === "hourly" ? floorHour(at) : floorDay(at);
  }
  return next;
}

function batchArgs(kind: ScheduleKind, slots: number[], o: ScheduleOptions): string[] {
  const jobs = jobsOf(kind, o).join(",");
  const common = o.commonArgs ?? [];
  if (kind === "daily") {
    return ["--date", isoDate(slots[0]), "--jobs", jobs, ...(o.dailyExtraArgs ?? []), ...common];
  }
  if (slots.length === 24) return ["--date", isoDate(slots[0]), "--jobs", jobs, ...common];
  return ["--hour", `${hourKey(slots[0]).replace("T", " ")}:00`, "--jobs", jobs, ...common];
}

function runOf(kind: ScheduleKind, slots: number[], o: ScheduleOptions): PlannedRun {
  const key = kind === "hourly" && slots.length === 24
    ? `hourly:${isoDate(slots[0])}`
    : slotKey(kind, slots[0]);
  return {
    key,
    kind,
    slots,
    args: batchArgs(kind, slots, o),
    jobs: [...jobsOf(kind, o)],
    dueAt: dueAt(kind, slots[0], o),
  };
}

/**
 * Lists what should run at `now`.
 * @param state the scheduler state (cursors set by {@link ensureCursors})
 * @param now the current instant (ms)
 * @param published what the manifest says is published
 * @param o the schedule
 */
export function plan(
  state: SchedulerState,
  now: number,
  published: Published,
  o: ScheduleOptions,
): Plan {
  const runnable: PlannedRun[] = [];
  const waiting = { hourly: 0, daily: 0 };
  const behind = { hourly: 0, daily: 0 };
  const failed = { hourly: 0, daily: 0 };
  const nextDue: Plan["nextDue"] = {};
  let nextWakeAt = Infinity;
  for (const kind of SCHEDULE_KINDS) {
    const cursor = state.cursors[kind];
    if (jobsOf(kind, o).length === 0 || cursor === undefined) continue;
    const step = stepOf(kind);
    const last = latestDueSlot(kind, now, o);
    const upcoming = Math.max(cursor, last + step);
    nextDue[kind] = { key: slotKey(kind, upcoming), at: dueAt(kind, upcoming, o) };
    nextWakeAt = Math.min(nextWakeAt, dueAt(kind, upcoming, o));
    let pendingDay: number[] = []; // consecutive untried hours of one UTC day
    const flushDay = () => {
      if (pendingDay.length === 24) runnable.push(runOf(kind, pendingDay, o));
      else for (const h of pendingDay) runnable.push(runOf(kind, [h], o));
      pendingDay = [];
    };
    for (let slot = cursor; slot <= last; slot += step) {
      if (isDone(state, kind, slot, published, o)) {
        flushDay();
        continue;
      }
      behind[kind]++;
      const rec = state.slots[slotKey(kind, slot)];
      if (rec?.status === "failed") failed[kind]++;
      if (rec?.notBefore !== undefined && rec.notBefore > now) {
        waiting[kind]++;
        nextWakeAt = Math.min(nextWakeAt, rec.notBefore);
        flushDay();
        continue;
      }
      if (kind === "daily") {
        runnable.push(runOf(kind, [slot], o));
        continue;
      }
      const untried = rec === undefined || (rec.attempts === 0 && rec.failures === 0);
      if (!untried || (pendingDay.length > 0 && floorDay(pendingDay[0]) !== floorDay(slot))) {
        flushDay();
      }
      if (untried && (pendingDay.length > 0 || slot === floorDay(slot))) pendingDay.push(slot);
      else runnable.push(runOf(kind, [slot], o));
      if (pendingDay.length === 24) flushDay();
    }
    flushDay();
  }
  runnable.sort((a, b) =>
    a.dueAt - b.dueAt || (a.kind === b.kind ? 0 : a.kind === "hourly" ? -1 : 1)
  );
  if (runnable.length > 0) nextWakeAt = now;
  return { runnable, waiting, behind, failed, nextWakeAt, nextDue };
}

/** Whether every slot of `run` is still not done (checked again after taking its lock). */
export function stillNeeded(
  state: SchedulerState,
  run: PlannedRun,
  published: Published,
  o: ScheduleOptions,
): boolean {
  return run.slots.every((s) => !isDone(state, run.kind, s, published, o));
}

/** Marks the slots of `run` as running. */
export function recordStart(
  state: SchedulerState,
  run: PlannedRun,
  now: number,
  owner: string,
): SchedulerState {
  const next = structuredClone(state);
  for (const s of run.slots) {
    const key = slotKey(run.kind, s);
    const rec = next.slots[key] ?? { status: "pending", attempts: 0, failures: 0 };
    next.slots[key] = { ...rec, status: "running", owner, startedAt: now };
  }
  return next;
}

/** The facts of a finished or interrupted run. */
export interface RunResult {
  outcome: RunOutcome;
  startedAt: number;
  finishedAt: number;
  /** Why it failed (one line), when it did. */
  error?: string;
  owner?: string;
}

/**
 * Records the outcome of `run`: succeeded slots are done; a failure counts an attempt and sets the
 * retry time (exponential backoff, or the next hourly tick once `maxAttempts` is reached); an
 * interrupted run (orchestrator stopping) counts nothing and is due again at once.
 */
export function recordResult(
  state: SchedulerState,
  run: PlannedRun,
  result: RunResult,
  o: ScheduleOptions,
): SchedulerState {
  const next = structuredClone(state);
  for (const s of run.slots) {
    const key = slotKey(run.kind, s);
    const rec: SlotRecord = {
      ...(next.slots[key] ?? { status: "pending", attempts: 0, failures: 0 }),
    };
    delete rec.owner;
    delete rec.startedAt;
    if (result.outcome === "succeeded") {
      next.slots[key] = { status: "succeeded", attempts: 0, failures: rec.failures };
      continue;
    }
    if (result.outcome === "interrupted") {
      next.slots[key] = { ...rec, status: rec.attempts > 0 ? "retrying" : "pending" };
      continue;
    }
    rec.attempts++;
    rec.failures++;
    if (result.error !== undefined) rec.lastError = result.error;
    if (rec.attempts >= o.maxAttempts) {
      rec.status = "failed";
      rec.attempts = 0;
      rec.notBefore = nextTick(result.finishedAt, o);
    } else {
      rec.status = "retrying";
      rec.notBefore = result.finishedAt + retryDelay(rec.attempts, o);
    }
    next.slots[key] = rec;
  }
  const summary: RunSummary = {
    key: run.key,
    args: run.args,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    durationMs: result.finishedAt - result.startedAt,
    outcome: result.outcome,
  };
  if (result.error !== undefined) summary.error = result.error;
  if (result.owner !== undefined) summary.owner = result.owner;
  next.last[run.kind] = summary;
  return next;
}

/**
 * Moves each cursor past the slots that are done (up to the latest due one) and forgets their
 * records, so the state stays small however long the orchestrator runs.
 */
export function compact(
  state: SchedulerState,
  now: number,
  published: Published,
  o: ScheduleOptions,
): SchedulerState {
  const next = structuredClone(state);
  for (const kind of SCHEDULE_KINDS) {
    let cursor = next.cursors[kind];
    if (cursor === undefined) continue;
    const last = latestDueSlot(kind, now, o);
    while (cursor <= last && isDone(next, kind, cursor, published, o)) {
      delete next.slots[slotKey(kind, cursor)];
      cursor += stepOf(kind);
    }
    next.cursors[kind] = cursor;
  }
  return next;
}

/** Where a first start begins, and whether the catch-up window cut something off. */
export interface Origin {
  cursors: Partial<Record<ScheduleKind, number>>;
  /** The hour catch-up would have started at without the window, when the window cut it. */
  clippedFrom?: number;
}

/**
 * The cursors of a first start (no state file yet): the earlier of the first unpublished hour
 * (`batchThrough`) and the earliest archived hour, but no more than `catchupDays` back; with neither,
 * the latest due hour (a fresh install runs only what is due now). The daily cursor is the day of
 * the hourly one.
 * @param now the current instant
 * @param facts `batchThrough` and `earliestArchived` (epoch ms or null), `catchupDays`
 */
export function firstStartOrigin(
  now: number,
  facts: { batchThrough: number | null; earliestArchived: number | null; catchupDays: number },
  o: ScheduleOptions,
): Origin {
  const candidates = [facts.batchThrough, facts.earliestArchived].filter((x): x is number =>
    x !== null
  );
  if (candidates.length === 0) {
    // The daily run of a day republishes all its hours, so it must not start before the hourly
    // schedule's first day: an earlier day would leave a gap that holds batchThrough back forever.
    const hourly = latestDueSlot("hourly", now, o);
    return { cursors: { hourly, daily: floorDay(hourly) } };
  }
  const wanted = floorHour(Math.min(...candidates));
  const floor = floorHour(now) - facts.catchupDays * DAY_MS;
  const hourly = Math.max(wanted, floor);
  const origin: Origin = { cursors: { hourly, daily: floorDay(hourly) } };
  if (wanted < floor) origin.clippedFrom = wanted;
  return origin;
}
