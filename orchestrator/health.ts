/**
 * @module
 * The orchestrator's HTTP endpoints: `GET /health` (JSON: every stream and batch job with its state,
 * last run, outcome, duration and next run) and `GET /metrics` (Prometheus text). `/health` answers
 * 200 while the process is up; `status` is `"degraded"` when a batch slot is in a failed round,
 * the stream processors are restarting, or the last scheduling tick failed.
 */
import { Hono } from "hono";
import { BATCH_JOBS, type BatchJob, STREAM_JOBS } from "../shared/config.ts";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "../shared/metrics.ts";
import { toIso } from "../shared/time.ts";
import type { BatchStatus } from "./batch_scheduler.ts";
import { DAILY_BATCH_JOBS } from "./config.ts";
import type { RunSummary, ScheduleKind } from "./scheduler.ts";
import type { StreamStatus } from "./supervisor.ts";

/** Where the health report comes from. */
export interface HealthSources {
  startedAt: number;
  now?: () => number;
  /** The stream supervisor's status; absent when `--streaming false`. */
  stream?: () => StreamStatus;
  /** The batch scheduler's status; absent when `--batch false`. */
  batch?: () => BatchStatus;
  /** Jobs of each schedule (empty: disabled). */
  hourlyJobs: readonly BatchJob[];
  dailyJobs: readonly BatchJob[];
  registry: Registry;
}

/** One job in the health report. */
export interface JobHealth {
  name: string;
  kind: "stream" | "batch";
  /** Batch jobs: the schedule that runs them. */
  schedule?: ScheduleKind;
  /** stream: starting, running, restarting, stopping, stopped, disabled; batch: idle, running, behind, retrying, failed, disabled. */
  state: string;
  lastRun: {
    startedAt: string | null;
    finishedAt: string | null;
    durationMs: number | null;
    outcome: string;
    error?: string;
    run?: string;
  } | null;
  nextRun: string | null;
  [extra: string]: unknown;
}

/** {@link StreamStatus} with RFC 3339 times. */
export type StreamHealth =
  & Omit<StreamStatus, "startedAt" | "nextStartAt" | "lastExit">
  & {
    startedAt: string | null;
    nextStartAt: string | null;
    lastExit: (Omit<NonNullable<StreamStatus["lastExit"]>, "at"> & { at: string }) | null;
  };

/** The `/health` body. */
export interface HealthReport {
  status: "ok" | "degraded";
  startedAt: string;
  now: string;
  batchThrough: string | null;
  jobs: JobHealth[];
  /** The stream supervisor's status, times as RFC 3339. */
  stream: StreamHealth | null;
  batch: {
    running:
      | (Omit<NonNullable<BatchStatus["running"]>, "startedAt"> & { startedAt: string })
      | null;
    behind: Record<ScheduleKind, number>;
    failed: Record<ScheduleKind, number>;
    waiting: Record<ScheduleKind, number>;
    lockedElsewhere: string[];
    /** Slots that failed at least once and are not done. */
    failing: {
      slot: string;
      status: string;
      attempts: number;
      failures: number;
      lastError?: string;
      retryAt: string | null;
    }[];
    error: string | null;
  } | null;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : toIso(ms));

function streamJobs(s: StreamStatus | undefined): JobHealth[] {
  return STREAM_JOBS.map((name) => {
    if (!s || !s.jobs.includes(name)) {
      return { name, kind: "stream", state: "disabled", lastRun: null, nextRun: null };
    }
    const running = s.state === "running" || s.state === "stopping";
    const lastRun = s.startedAt === null ? null : {
      startedAt: iso(s.startedAt),
      finishedAt: running ? null : iso(s.lastExit?.at),
      durationMs: running ? null : (s.lastExit?.upMs ?? null),
      outcome: running
        ? "running"
        : s.lastExit
        ? `exited with code ${s.lastExit.code ?? "none"}${
          s.lastExit.error ? `: ${s.lastExit.error}` : ""
        }`
        : "not started",
    };
    return {
      name,
      kind: "stream",
      state: s.state,
      pid: s.pid,
      restarts: s.restarts,
      lastRun,
      nextRun: s.state === "restarting" ? iso(s.nextStartAt) : null,
    };
  });
}

function summary(last: RunSummary | undefined): JobHealth["lastRun"] {
  if (!last) return null;
  const out: NonNullable<JobHealth["lastRun"]> = {
    startedAt: iso(last.startedAt),
    finishedAt: iso(last.finishedAt),
    durationMs: last.durationMs,
    outcome: last.outcome,
    run: last.key,
  };
  if (last.error !== undefined) out.error = last.error;
  return out;
}

function batchJobs(b: BatchStatus | undefined, src: HealthSources, now: number): JobHealth[] {
  return BATCH_JOBS.map((name) => {
    const schedule: ScheduleKind = (DAILY_BATCH_JOBS as readonly string[]).includes(name)
      ? "daily"
      : "hourly";
    const jobs = schedule === "hourly" ? src.hourlyJobs : src.dailyJobs;
    if (!b || !jobs.includes(name)) {
      return { name, kind: "batch", schedule, state: "disabled", lastRun: null, nextRun: null };
    }
    const p = b.plan;
    const running = b.running?.kind === schedule;
    const runnableNow = p?.runnable.some((k) => k.startsWith(`${schedule}:`)) ?? false;
    const slots = Object.entries(b.state?.slots ?? {}).filter(([k]) =>
      k.startsWith(`${schedule}:`)
    );
    const retryAts = slots.map(([, r]) => r.notBefore).filter((t): t is number =>
      t !== undefined && t > now
    );
    let next: number | null = p?.nextDue[schedule]?.at ?? null;
    if (runnableNow) next = now;
    else if (retryAts.length > 0) next = Math.min(next ?? Infinity, ...retryAts);
    const state = running
      ? "running"
      : (p?.failed[schedule] ?? 0) > 0
      ? "failed"
      : (p?.waiting[schedule] ?? 0) > 0
      ? "retrying"
      : (p?.behind[schedule] ?? 0) > 0
      ? "behind"
      : "idle";
    return {
      name,
      kind: "batch",
      schedule,
      state,
      lastRun: running
        ? {
          startedAt: iso(b.running!.startedAt),
          finishedAt: null,
          durationMs: null,
          outcome: "running",
          run: b.running!.key,
        }
        : summary(b.state?.last[schedule]),
      previousRun: running ? summary(b.state?.last[schedule]) : undefined,
      nextRun: iso(next),
      nextSlot: p?.nextDue[schedule]?.key ?? null,
      behind: p?.behind[schedule] ?? 0,
    };
  });
}

/** Builds the `/health` body. */
export function healthReport(src: HealthSources): HealthReport {
  const now = (src.now ?? Date.now)();
  const s = src.stream?.();
  const b = src.batch?.();
  const jobs = [...streamJobs(s), ...batchJobs(b, src, now)];
  const failing = Object.entries(b?.state?.slots ?? {})
    .filter(([, r]) => r.failures > 0 && r.status !== "succeeded")
    .map(([slot, r]) => {
      const f: NonNullable<HealthReport["batch"]>["failing"][number] = {
        slot,
        status: r.status,
        attempts: r.attempts,
        failures: r.failures,
        retryAt: iso(r.notBefore),
      };
      if (r.lastError !== undefined) f.lastError = r.lastError;
      return f;
    });
  const zero = { hourly: 0, daily: 0 };
  const degraded = (s?.state === "restarting") || (b !== undefined &&
    (b.error !== null || (b.plan?.failed.hourly ?? 0) + (b.plan?.failed.daily ?? 0) > 0));
  return {
    status: degraded ? "degraded" : "ok",
    startedAt: toIso(src.startedAt),
    now: toIso(now),
    batchThrough: iso(b?.batchThrough),
    jobs,
    stream: s
      ? {
        ...s,
        startedAt: iso(s.startedAt),
        nextStartAt: iso(s.nextStartAt),
        lastExit: s.lastExit && { ...s.lastExit, at: toIso(s.lastExit.at) },
      }
      : null,
    batch: b
      ? {
        running: b.running && { ...b.running, startedAt: toIso(b.running.startedAt) },
        behind: b.plan?.behind ?? zero,
        failed: b.plan?.failed ?? zero,
        waiting: b.plan?.waiting ?? zero,
        lockedElsewhere: b.lockedElsewhere,
        failing,
        error: b.error,
      }
      : null,
  };
}

/** The Hono app serving `/health` and `/metrics`. */
export function createHealthApp(src: HealthSources): Hono {
  const app = new Hono();
  app.get("/health", (c) => c.json(healthReport(src)));
  app.get(
    "/metrics",
    (c) => c.body(src.registry.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }),
  );
  return app;
}
