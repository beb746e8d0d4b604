/**
 * @module
 * The batch loop: each tick reads the state and the manifest, plans (see scheduler.ts), takes the
 * run lock of the oldest runnable run, checks again under the lock that it is still needed, runs
 * it, records the outcome, releases the lock. One run at a time per orchestrator; several
 * orchestrators sharing OUTPUTS_DIR never run the same slot twice. Between runs it sleeps until
 * the next slot is due (at most `pollMs`, so runs published by others are noticed).
 */
import type { Logger } from "../shared/log.ts";
import type { Registry } from "../shared/metrics.ts";
import { hourKey, toIso } from "../shared/time.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { RunLocks } from "./lock.ts";
import type { PublishedSource } from "./published.ts";
import type { BatchRunner, BatchRunResult } from "./runner.ts";
import {
  compact,
  ensureCursors,
  firstStartOrigin,
  type Plan,
  plan,
  type PlannedRun,
  recordResult,
  recordStart,
  SCHEDULE_KINDS,
  type ScheduleKind,
  type ScheduleOptions,
  type SchedulerState,
  slotKey,
  type SlotRecord,
  stillNeeded,
} from "./scheduler.ts";
import type { StateStore } from "./state.ts";

/** Options of {@link BatchScheduler}. */
export interface BatchSchedulerOptions {
  schedule: ScheduleOptions;
  store: StateStore;
  locks: RunLocks;
  runner: BatchRunner;
  published: PublishedSource;
  /** Earliest archived hour, for a first start; default: none. */
  earliestArchived?: () => Promise<number | null>;
  /** First start: how many days back missed hours are caught up; default 7. */
  catchupDays?: number;
  /** Who this orchestrator is (written into state and locks). */
  owner: string;
  log: Logger;
  registry?: Registry;
  clock?: Clock;
  /** Longest sleep between ticks; default 60000 ms. */
  pollMs?: number;
  /** Sleep after a tick that threw (state or manifest unreadable); default 30000 ms. */
  errorDelayMs?: number;
}

/** What one {@link BatchScheduler.tick} did. */
export interface TickResult {
  /** The run started and finished in this tick, if any. */
  ran: { run: PlannedRun; result: BatchRunResult } | null;
  /** When the next tick should happen. */
  nextWakeAt: number;
}

/** A run going on now. */
export interface RunningRun {
  key: string;
  kind: ScheduleKind;
  args: string[];
  startedAt: number;
  pid: number | null;
}

/** What `/health` shows of the batch side. */
export interface BatchStatus {
  running: RunningRun | null;
  batchThrough: number | null;
  plan: Omit<Plan, "runnable"> & { runnable: string[] } | null;
  state: SchedulerState | null;
  /** Runs another orchestrator holds the lock of (last tick). */
  lockedElsewhere: string[];
  /** The error of the last tick that threw, if the last tick threw. */
  error: string | null;
}

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/** Schedules and runs batch runs until aborted. */
export class BatchScheduler {
  readonly #o: BatchSchedulerOptions;
  readonly #clock: Clock;
  #running: RunningRun | null = null;
  #lastPlan: Plan | null = null;
  #state: SchedulerState | null = null;
  #batchThrough: number | null = null;
  #lockedElsewhere: string[] = [];
  #error: string | null = null;
  readonly #m;

  constructor(options: BatchSchedulerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    const r = options.registry;
    this.#m = r && {
      runs: r.counter("orchestrator_batch_runs_total", "Batch runs by schedule and outcome.", [
        "schedule",
        "outcome",
      ]),
      duration: r.histogram(
        "orchestrator_batch_run_duration_seconds",
        "Duration of batch runs.",
        DURATION_BUCKETS,
        ["schedule"],
      ),
      behind: r.gauge(
        "orchestrator_batch_slots_behind",
        "Slots due and not yet done (runnable, retrying or failed).",
        ["schedule"],
      ),
      failed: r.gauge("orchestrator_batch_slots_failed", "Slots in a failed round.", ["schedule"]),
      running: r.gauge("orchestrator_batch_running", "1 while a batch run is going on."),
      lastSuccess: r.gauge(
        "orchestrator_batch_last_success_timestamp_seconds",
        "End of the last successful run.",
        ["schedule"],
      ),
      through: r.gauge(
        "orchestrator_batch_through_timestamp_seconds",
        "The manifest's batchThrough (0 when nothing is published).",
      ),
    };
  }

  /** A snapshot for `/health`. */
  status(): BatchStatus {
    const p = this.#lastPlan;
    return {
      running: this.#running && { ...this.#running },
      batchThrough: this.#batchThrough,
      plan: p && { ...p, runnable: p.runnable.map((r) => r.key) },
      state: this.#state && structuredClone(this.#state),
      lockedElsewhere: [...this.#lockedElsewhere],
      error: this.#error,
    };
  }

  /** Sets the cursors on a first start (from the manifest and the archive) and compacts. */
  async init(): Promise<void> {
    const o = this.#o;
    const now = this.#clock.now();
    const info = await o.published();
    this.#batchThrough = info.batchThrough;
    const current = await o.store.load();
    const missing = SCHEDULE_KINDS.some((k) =>
      current.cursors[k] === undefined &&
      (k === "hourly" ? o.schedule.hourlyJobs : o.schedule.dailyJobs).length > 0
    );
    let origin: ReturnType<typeof firstStartOrigin> | null = null;
    if (missing) {
      origin = firstStartOrigin(now, {
        batchThrough: info.batchThrough,
        earliestArchived: (await o.earliestArchived?.()) ?? null,
        catchupDays: o.catchupDays ?? 7,
      }, o.schedule);
    }
    this.#state = await o.store.update((s) =>
      compact(
        origin ? ensureCursors(s, origin.cursors, o.schedule) : s,
        now,
        info.published,
        o.schedule,
      )
    );
    if (origin) {
      o.log.info("first start: batch schedule begins", {
        hourlyFrom: origin.cursors.hourly !== undefined ? toIso(origin.cursors.hourly) : null,
        dailyFrom: origin.cursors.daily !== undefined ? toIso(origin.cursors.daily) : null,
      });
      if (origin.clippedFrom !== undefined) {
        o.log.warn(
          "hours before the catch-up window are not run; batchThrough stays before them until " +
            "they are backfilled with deno task batch --from … --to …",
          { firstUnrun: hourKey(origin.clippedFrom), catchupDays: o.catchupDays ?? 7 },
        );
      }
    }
  }

  /**
   * Plans and runs at most one batch run.
   * @param signal aborts a run in progress (it is recorded as interrupted)
   */
  async tick(signal?: AbortSignal): Promise<TickResult> {
    const o = this.#o;
    const now = this.#clock.now();
    const state = await o.store.load();
    const info = await o.published();
    const p = plan(state, now, info.published, o.schedule);
    this.#observe(state, p, info.batchThrough);
    const busy: string[] = [];
    for (const run of p.runnable) {
      if (signal?.aborted) break;
      const held = await o.locks.tryAcquire(lockKeys(run));
      if (!held) {
        busy.push(run.key);
        continue;
      }
      try {
        // Another orchestrator may have finished or failed it between our plan and our lock.
        const fresh = await o.store.load();
        const freshInfo = await o.published();
        const at = this.#clock.now();
        if (
          !stillNeeded(fresh, run, freshInfo.published, o.schedule) || !eligible(fresh, run, at)
        ) {
          continue;
        }
        this.#lockedElsewhere = busy;
        const result = await this.#execute(run, signal);
        return { ran: { run, result }, nextWakeAt: this.#clock.now() };
      } finally {
        await held.release();
      }
    }
    this.#lockedElsewhere = busy;
    if (busy.length > 0) {
      o.log.debug("runs held by another orchestrator", { runs: busy });
    }
    // Runs locked by another orchestrator may fail there: look again within pollMs.
    const pollMs = o.pollMs ?? 60_000;
    return {
      ran: null,
      nextWakeAt: busy.length ? Math.min(p.nextWakeAt, now + pollMs) : p.nextWakeAt,
    };
  }

  async #execute(run: PlannedRun, signal?: AbortSignal): Promise<BatchRunResult> {
    const o = this.#o;
    const startedAt = this.#clock.now();
    await o.store.update((s) => recordStart(s, run, startedAt, o.owner));
    this.#running = { key: run.key, kind: run.kind, args: run.args, startedAt, pid: null };
    this.#m?.running.set({}, 1);
    const log = o.log.child({ run: run.key, schedule: run.kind });
    log.info("batch run started", { args: run.args });
    let result: BatchRunResult;
    try {
      result = await o.runner.run(run, {
        signal,
        onStart: (pid) => {
          if (this.#running) this.#running.pid = pid;
        },
      });
    } catch (e) {
      result = { outcome: "failed", exitCode: null, error: `runner error: ${e}` };
    } finally {
      this.#running = null;
      this.#m?.running.set({}, 0);
    }
    const finishedAt = this.#clock.now();
    const after = await o.published().catch(() => null);
    if (result.outcome === "succeeded" && after && run.jobs.includes("views")) {
      // The hour-grain views publish hours; an hour missing now would hold batchThrough back.
      const hours = run.kind === "daily" || run.slots.length === 24
        ? Array.from({ length: 24 }, (_, h) => run.slots[0] + h * 3_600_000)
        : run.slots;
      const missing = hours.map(hourKey).filter((k) => !after.published.hours.has(k));
      if (missing.length > 0) {
        result = {
          outcome: "failed",
          exitCode: result.exitCode,
          error: `batch exited 0 but did not publish hour(s) ${missing.join(", ")}`,
        };
      }
    }
    const durationMs = finishedAt - startedAt;
    const state = await o.store.update((s) => {
      const recorded = recordResult(s, run, {
        outcome: result.outcome,
        startedAt,
        finishedAt,
        error: result.error,
        owner: o.owner,
      }, o.schedule);
      return after ? compact(recorded, finishedAt, after.published, o.schedule) : recorded;
    });
    this.#state = state;
    if (after) this.#batchThrough = after.batchThrough;
    this.#m?.runs.inc({ schedule: run.kind, outcome: result.outcome });
    this.#m?.duration.observe({ schedule: run.kind }, durationMs / 1000);
    if (result.outcome === "succeeded") {
      this.#m?.lastSuccess.set({ schedule: run.kind }, finishedAt / 1000);
      log.info("batch run succeeded", { durationMs });
    } else if (result.outcome === "interrupted") {
      log.warn("batch run interrupted; it runs again at the next start", { durationMs });
    } else {
      const rec = state.slots[slotKey(run.kind, run.slots[0])];
      const fields = {
        durationMs,
        exitCode: result.exitCode,
        error: result.error,
        attempts: rec?.attempts,
        failures: rec?.failures,
        retryAt: rec?.notBefore !== undefined ? toIso(rec.notBefore) : null,
      };
      if (rec?.status === "failed") {
        log.error("batch run failed; out of attempts, retried at the next tick", fields);
      } else log.warn("batch run failed; retrying with backoff", fields);
    }
    return result;
  }

  #observe(state: SchedulerState, p: Plan, batchThrough: number | null): void {
    this.#state = state;
    this.#lastPlan = p;
    this.#batchThrough = batchThrough;
    for (const kind of SCHEDULE_KINDS) {
      this.#m?.behind.set({ schedule: kind }, p.behind[kind]);
      this.#m?.failed.set({ schedule: kind }, p.failed[kind]);
    }
    this.#m?.through.set({}, batchThrough === null ? 0 : batchThrough / 1000);
  }

  /** Runs ticks until `signal` aborts; a run in progress is interrupted and recorded as such. */
  async run(signal: AbortSignal): Promise<void> {
    const o = this.#o;
    while (!signal.aborted) {
      let wakeAt: number;
      try {
        if (this.#state === null) await this.init();
        const r = await this.tick(signal);
        this.#error = null;
        if (r.ran) continue;
        wakeAt = r.nextWakeAt;
      } catch (e) {
        this.#error = String(e);
        o.log.error("batch scheduling failed; trying again", { error: e });
        wakeAt = this.#clock.now() + (o.errorDelayMs ?? 30_000);
      }
      const ms = Math.min(wakeAt - this.#clock.now(), o.pollMs ?? 60_000);
      await this.#clock.sleep(ms, signal);
    }
  }
}

function lockKeys(run: PlannedRun): string[] {
  return run.slots.map((s) => slotKey(run.kind, s));
}

function eligible(state: SchedulerState, run: PlannedRun, now: number): boolean {
  return run.slots.every((s) => {
    const rec: SlotRecord | undefined = state.slots[slotKey(run.kind, s)];
    return rec?.notBefore === undefined || rec.notBefore <= now;
  });
}
