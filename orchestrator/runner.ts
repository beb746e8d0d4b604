/**
 * @module
 * Runs one planned batch run as a child process `deno task batch <args>`, so a crash of the batch
 * job cannot take the orchestrator down. A run that outlives its time-out is killed and counts as
 * failed; a run interrupted by the orchestrator stopping gets SIGTERM, then SIGKILL after the grace
 * period, and counts as interrupted (it is due again at the next start).
 */
import { type Clock, systemClock } from "./clock.ts";
import { type ChildHandle, failureSummary, type Spawner } from "./process.ts";
import type { PlannedRun, RunOutcome } from "./scheduler.ts";

/** How a batch run ended. */
export interface BatchRunResult {
  outcome: RunOutcome;
  /** Exit code of the child, null when it could not start. */
  exitCode: number | null;
  /** One line saying why, when it failed. */
  error?: string;
}

/** Options of one {@link BatchRunner.run}. */
export interface RunOptions {
  /** Aborts the run (orchestrator stopping): the child is stopped, the outcome is "interrupted". */
  signal?: AbortSignal;
  /** Called with the child's pid once it started. */
  onStart?: (pid: number) => void;
}

/** Executes batch runs. */
export interface BatchRunner {
  run(run: PlannedRun, options?: RunOptions): Promise<BatchRunResult>;
}

/** Options of {@link TaskBatchRunner}. */
export interface TaskBatchRunnerOptions {
  spawner: Spawner;
  /** The deno executable; default `Deno.execPath()`. */
  deno?: string;
  /** Working directory: the repository root holding deno.json. */
  cwd: string;
  /** Environment added to the inherited one (e.g. absolute DATA_DIR and OUTPUTS_DIR). */
  env?: Record<string, string>;
  /** A run still going after this is killed and counts as failed. */
  timeoutMs: number;
  /** Grace between SIGTERM and SIGKILL. */
  stopTimeoutMs: number;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

/** Waits for `child` to exit within `graceMs` after SIGTERM, else SIGKILLs its group. */
export async function stopChild(child: ChildHandle, graceMs: number, clock: Clock): Promise<void> {
  child.signal("SIGTERM");
  const grace = new AbortController();
  const exitedInTime = await Promise.race([
    child.exited.then(() => true),
    clock.sleep(graceMs, grace.signal).then(() => false),
  ]);
  grace.abort();
  if (!exitedInTime) child.killGroup();
  await child.exited;
}

/** Runs `deno task batch <args>` children. */
export class TaskBatchRunner implements BatchRunner {
  readonly #o: TaskBatchRunnerOptions;
  readonly #clock: Clock;

  constructor(options: TaskBatchRunnerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  async run(run: PlannedRun, options: RunOptions = {}): Promise<BatchRunResult> {
    if (options.signal?.aborted) return { outcome: "interrupted", exitCode: null };
    let child: ChildHandle;
    try {
      child = this.#o.spawner.spawn({
        command: this.#o.deno ?? Deno.execPath(),
        args: ["task", "batch", ...run.args],
        cwd: this.#o.cwd,
        env: this.#o.env,
      });
    } catch (e) {
      return { outcome: "failed", exitCode: null, error: `cannot start deno task batch: ${e}` };
    }
    options.onStart?.(child.pid);
    const wait = new AbortController();
    const onAbort = () => wait.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const ended = await Promise.race([
        child.exited.then((exit) => ({ kind: "exit" as const, exit })),
        this.#clock.sleep(this.#o.timeoutMs, wait.signal).then(() => ({ kind: "stop" as const })),
      ]);
      if (ended.kind === "exit") {
        if (ended.exit.code === 0) return { outcome: "succeeded", exitCode: 0 };
        const why = failureSummary(child.tail()) ??
          (ended.exit.signal ? `killed by ${ended.exit.signal}` : "no message");
        return {
          outcome: "failed",
          exitCode: ended.exit.code,
          error: `exit code ${ended.exit.code}: ${why}`,
        };
      }
      await stopChild(child, this.#o.stopTimeoutMs, this.#clock);
      if (options.signal?.aborted) return { outcome: "interrupted", exitCode: null };
      const minutes = Math.round(this.#o.timeoutMs / 60_000);
      return {
        outcome: "failed",
        exitCode: null,
        error: `timed out after ${minutes} min and was killed`,
      };
    } finally {
      wait.abort();
      options.signal?.removeEventListener("abort", onAbort);
    }
  }
}
