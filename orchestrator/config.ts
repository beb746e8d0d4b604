/**
 * @module
 * Configuration of the orchestrator: the seed's `--streaming` / `--batch` switches plus the
 * `ORCH_*` variables, resolved once on top of the platform's {@link ResolvedConfig}.
 */
import {
  BATCH_JOBS,
  type BatchJob,
  ConfigError,
  type ResolvedConfig,
  type StreamJob,
} from "../shared/config.ts";
import { HOUR_MS, MINUTE_MS, SECOND_MS } from "../shared/time.ts";

/** Batch jobs run for every completed hour. */
export const HOURLY_BATCH_JOBS: readonly BatchJob[] = ["hourly_aggregate", "views"];
/** Batch jobs run once a day for the previous day. */
export const DAILY_BATCH_JOBS: readonly BatchJob[] = ["daily_summary", "user_segmentation"];

/** Everything the orchestrator needs, resolved (see docs/ORCHESTRATOR.md for each variable). */
export interface ResolvedOrchestratorConfig {
  /** `--streaming` (default true): supervise `deno task process`. */
  streaming: boolean;
  /** `--batch` (default true): schedule `deno task batch` runs. */
  batch: boolean;
  /** Stream jobs passed to `deno task process --jobs` (`STREAM_JOBS` minus `DISABLED_JOBS`). */
  streamJobs: StreamJob[];
  /** Batch jobs of the hourly runs (`hourly_aggregate,views` minus the disabled ones). */
  hourlyJobs: BatchJob[];
  /** Batch jobs of the daily runs (`daily_summary,user_segmentation` minus the disabled ones). */
  dailyJobs: BatchJob[];
  /** `ORCH_DISABLED_BATCH_JOBS`: comma list of batch jobs never run. */
  disabledBatchJobs: BatchJob[];
  /**
   * `ORCH_HOURLY_DELAY_MIN` (default 5, at least 3): an hour is processed this long after it ends
   * (the batch job publishes an hour only once it ended 2 minutes ago).
   */
  hourlyDelayMs: number;
  /** `ORCH_DAILY_AT` (default `02:00`, UTC): when the previous day's daily run is due. */
  dailyAtMs: number;
  /**
   * `ORCH_DAILY_RECOMPUTE` (default true): the daily run also republishes the day's hourly jobs,
   * so events archived after their hourly run are in the batch views by the next morning.
   */
  dailyRecompute: boolean;
  /** `ORCH_SEGMENTATION_LOOKBACK_DAYS`: passed as `--lookback-days` when set. */
  segmentationLookbackDays: number | undefined;
  /** `ORCH_MAX_ATTEMPTS` (default 3): failed attempts before a run is marked failed. */
  maxAttempts: number;
  /** `ORCH_RETRY_BASE_SEC` (default 30): first retry delay, doubled on each further failure. */
  retryBaseMs: number;
  /** `ORCH_RETRY_MAX_SEC` (default 600): bound of the retry delay. */
  retryMaxMs: number;
  /** `ORCH_BATCH_TIMEOUT_MIN` (default 120): a batch run still going after this is killed. */
  batchTimeoutMs: number;
  /**
   * `ORCH_BATCH_LOCK_WAIT_SEC` (default 300): passed as `--wait-seconds`, how long a batch run
   * waits for the day's lock held by another batch run before failing (and being retried).
   */
  batchLockWaitSec: number;
  /** `ORCH_CATCHUP_DAYS` (default 7): on a first start, how far back missed hours are run. */
  catchupDays: number;
  /** `ORCH_STOP_TIMEOUT_SEC` (default 30): grace after SIGTERM to a child before SIGKILL. */
  stopTimeoutMs: number;
  /** `ORCH_STREAM_BACKOFF_MAX_SEC` (default 60): bound of the stream restart delay. */
  streamBackoffMaxMs: number;
  /** `ORCH_HEALTH_PORT` (default 9998; 0 picks a free port): the orchestrator's `/health`. */
  healthPort: number;
  /** `HEALTH_PORT` (default 9999): left to the stream child (`deno task process`). */
  streamHealthPort: number;
}

type Env = Record<string, string | undefined>;

/** Command-line switches as parsed (strings, validated here). */
export interface OrchestratorArgs {
  streaming?: string;
  batch?: string;
}

function bool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  throw new ConfigError(name, raw, "expected true or false");
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, raw, "expected an integer");
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(name, raw, `expected an integer in ${min}..${max}`);
  return n;
}

function timeOfDay(env: Env, name: string, fallback: string): number {
  const raw = env[name] ?? fallback;
  const m = /^(\d{1,2}):(\d{2})$/.exec(raw.trim());
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) {
    throw new ConfigError(name, raw, "expected HH:MM (UTC), 00:00..23:59");
  }
  return Number(m[1]) * HOUR_MS + Number(m[2]) * MINUTE_MS;
}

function batchJobs(env: Env, name: string): BatchJob[] {
  const raw = env[name] ?? "";
  const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const j of items) {
    if (!(BATCH_JOBS as readonly string[]).includes(j)) {
      throw new ConfigError(
        name,
        raw,
        `unknown batch job "${j}" (known: ${BATCH_JOBS.join(", ")})`,
      );
    }
  }
  return items as BatchJob[];
}

/**
 * Resolves the orchestrator's configuration.
 * @param env the environment, e.g. `Deno.env.toObject()`
 * @param args the `--streaming` / `--batch` switches as given
 * @param base the platform configuration (stream jobs, `HEALTH_PORT`)
 * @throws {ConfigError} naming the first variable or switch that is malformed
 */
export function resolveOrchestratorConfig(
  env: Env,
  args: OrchestratorArgs,
  base: Pick<ResolvedConfig, "streamJobs" | "healthPort">,
): ResolvedOrchestratorConfig {
  const streaming = bool("--streaming", args.streaming, true);
  const batch = bool("--batch", args.batch, true);
  if (!streaming && !batch) {
    throw new ConfigError("--batch", args.batch, "--streaming and --batch are both false");
  }
  const disabledBatchJobs = batchJobs(env, "ORCH_DISABLED_BATCH_JOBS");
  const enabled = (jobs: readonly BatchJob[]) => jobs.filter((j) => !disabledBatchJobs.includes(j));
  const dailyRecompute = bool("ORCH_DAILY_RECOMPUTE", env.ORCH_DAILY_RECOMPUTE, true);
  const hourlyJobs = enabled(HOURLY_BATCH_JOBS);
  const dailyJobs = enabled(DAILY_BATCH_JOBS);
  if (dailyRecompute && dailyJobs.length > 0) dailyJobs.push(...hourlyJobs);
  const lookbackRaw = env.ORCH_SEGMENTATION_LOOKBACK_DAYS;
  const healthPort = int(env, "ORCH_HEALTH_PORT", 9998, 0, 65535);
  if (streaming && healthPort !== 0 && healthPort === base.healthPort) {
    throw new ConfigError(
      "ORCH_HEALTH_PORT",
      env.ORCH_HEALTH_PORT,
      `clashes with HEALTH_PORT=${base.healthPort}, which the stream processors listen on`,
    );
  }
  if (streaming && base.streamJobs.length === 0) {
    throw new ConfigError(
      "DISABLED_JOBS",
      env.DISABLED_JOBS,
      "every stream job is disabled; run with --streaming false instead",
    );
  }
  const retryBaseMs = int(env, "ORCH_RETRY_BASE_SEC", 30, 1, 86_400) * SECOND_MS;
  const retryMaxMs = int(env, "ORCH_RETRY_MAX_SEC", 600, 1, 86_400) * SECOND_MS;
  if (retryMaxMs < retryBaseMs) {
    throw new ConfigError(
      "ORCH_RETRY_MAX_SEC",
      env.ORCH_RETRY_MAX_SEC,
      "must be ≥ ORCH_RETRY_BASE_SEC",
    );
  }
  const hourlyDelayMs = int(env, "ORCH_HOURLY_DELAY_MIN", 5, 3, 59) * MINUTE_MS;
  const dailyAtMs = timeOfDay(env, "ORCH_DAILY_AT", "02:00");
  if (dailyAtMs < hourlyDelayMs) {
    // The daily run needs the day's last hour to be publishable (ended and settled).
    throw new ConfigError(
      "ORCH_DAILY_AT",
      env.ORCH_DAILY_AT,
      `must be at least ORCH_HOURLY_DELAY_MIN (${hourlyDelayMs / MINUTE_MS} min) after midnight`,
    );
  }
  return {
    streaming,
    batch,
    streamJobs: [...base.streamJobs],
    hourlyJobs,
    dailyJobs,
    disabledBatchJobs,
    hourlyDelayMs,
    dailyAtMs,
    dailyRecompute,
    segmentationLookbackDays: lookbackRaw === undefined || lookbackRaw.trim() === ""
      ? undefined
      : int(env, "ORCH_SEGMENTATION_LOOKBACK_DAYS", 0, 1, 366),
    maxAttempts: int(env, "ORCH_MAX_ATTEMPTS", 3, 1, 100),
    retryBaseMs,
    retryMaxMs,
    batchTimeoutMs: int(env, "ORCH_BATCH_TIMEOUT_MIN", 120, 1, 7 * 24 * 60) * MINUTE_MS,
    batchLockWaitSec: int(env, "ORCH_BATCH_LOCK_WAIT_SEC", 300, 0, 86_400),
    catchupDays: int(env, "ORCH_CATCHUP_DAYS", 7, 0, 3650),
    stopTimeoutMs: int(env, "ORCH_STOP_TIMEOUT_SEC", 30, 1, 3600) * SECOND_MS,
    streamBackoffMaxMs: int(env, "ORCH_STREAM_BACKOFF_MAX_SEC", 60, 1, 3600) * SECOND_MS,
    healthPort,
    streamHealthPort: base.healthPort,
  };
}
