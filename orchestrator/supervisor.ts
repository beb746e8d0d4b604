/**
 * @module
 * Supervises the stream processors: one child `deno task process --jobs <enabled jobs>`, restarted
 * with exponential backoff (1 s, 2 s, 4 s … up to a bound) whenever it exits, the backoff starting
 * over once a child stayed up for a minute. On stop the child gets SIGTERM (it stops cleanly and
 * checkpoints), then SIGKILL after the grace period.
 */
import type { StreamJob } from "../shared/config.ts";
import type { Logger } from "../shared/log.ts";
import type { Counter, Gauge } from "../shared/metrics.ts";
import { type Clock, systemClock } from "./clock.ts";
import { type ChildSpec, failureSummary, type Spawner } from "./process.ts";
import { stopChild } from "./runner.ts";

/** State of the supervised child. */
export type StreamState = "starting" | "running" | "restarting" | "stopping" | "stopped";

/** What `/health` shows of the stream processors. */
export interface StreamStatus {
  state: StreamState;
  jobs: StreamJob[];
  pid: number | null;
  /** When the current (or last) child started. */
  startedAt: number | null;
  restarts: number;
  /** How the last child ended, if one did. */
  lastExit:
    | { at: number; code: number | null; signal: string | null; error?: string; upMs: number }
    | null;
  /** When the next start is due while restarting. */
  nextStartAt: number | null;
}

/** Options of {@link StreamSupervisor}. */
export interface StreamSupervisorOptions {
  jobs: StreamJob[];
  spawner: Spawner;
  /** The child to run; default `deno task process --jobs <jobs>` in `cwd`. */
  spec?: ChildSpec;
  /** Repository root (default spec only). */
  cwd?: string;
  /** Environment added to the inherited one (default spec only). */
  env?: Record<string, string>;
  log: Logger;
  /** First restart delay; default 1000 ms. */
  backoffBaseMs?: number;
  /** Bound of the restart delay; default 60000 ms. */
  backoffMaxMs?: number;
  /** A child up this long resets the backoff; default 60000 ms. */
  resetAfterMs?: number;
  /** Grace between SIGTERM and SIGKILL on stop; default 30000 ms. */
  stopTimeoutMs?: number;
  clock?: Clock;
  metrics?: { restarts: Counter; up: Gauge };
}

/** Runs and restarts the stream processors until aborted. */
export class StreamSupervisor {
  readonly #o: StreamSupervisorOptions;
  readonly #clock: Clock;
  #status: StreamStatus;

  constructor(options: StreamSupervisorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#status = {
      state: "starting",
      jobs: [...options.jobs],
      pid: null,
      startedAt: null,
      restarts: 0,
      lastExit: null,
      nextStartAt: null,
    };
  }

  status(): StreamStatus {
    return structuredClone(this.#status);
  }

  #spec(): ChildSpec {
    return this.#o.spec ?? {
      command: Deno.execPath(),
      args: ["task", "process", "--jobs", this.#o.jobs.join(",")],
      cwd: this.#o.cwd,
      env: this.#o.env,
    };
  }

  /** Supervises until `signal` aborts, then stops the child and resolves. */
  async run(signal: AbortSignal): Promise<void> {
    const base = this.#o.backoffBaseMs ?? 1_000;
    const max = this.#o.backoffMaxMs ?? 60_000;
    const resetAfter = this.#o.resetAfterMs ?? 60_000;
    const log = this.#o.log;
    let failures = 0;
    while (!signal.aborted) {
      const startedAt = this.#clock.now();
      Object.assign(this.#status, { state: "running", startedAt, nextStartAt: null });
      let exit: { code: number | null; signal: string | null; error?: string };
      try {
        const child = this.#o.spawner.spawn(this.#spec());
        this.#status.pid = child.pid;
        this.#o.metrics?.up.set({}, 1);
        log.info("stream processors started", { pid: child.pid, jobs: this.#o.jobs });
        const stop = new AbortController();
        const onAbort = () => stop.abort();
        signal.addEventListener("abort", onAbort, { once: true });
        const ended = await Promise.race([
          child.exited,
          new Promise<null>((resolve) =>
            stop.signal.addEventListener("abort", () => resolve(null))
          ),
        ]);
        signal.removeEventListener("abort", onAbort);
        if (ended === null) {
          this.#status.state = "stopping";
          log.info("stopping stream processors", { pid: child.pid });
          await stopChild(child, this.#o.stopTimeoutMs ?? 30_000, this.#clock);
          const code = (await child.exited).code;
          this.#status.lastExit = {
            at: this.#clock.now(),
            code,
            signal: null,
            upMs: this.#clock.now() - startedAt,
          };
          log.info("stream processors stopped", { pid: child.pid, code });
          break;
        }
        exit = { code: ended.code, signal: ended.signal };
        const why = failureSummary(child.tail());
        if (why !== undefined) exit.error = why;
      } catch (e) {
        exit = { code: null, signal: null, error: `cannot start: ${e}` };
      }
      this.#o.metrics?.up.set({}, 0);
      const now = this.#clock.now();
      const upMs = now - startedAt;
      if (upMs >= resetAfter) failures = 0;
      const delay = Math.min(base * 2 ** failures, max);
      failures++;
      this.#status.restarts++;
      this.#o.metrics?.restarts.inc();
      Object.assign(this.#status, {
        state: "restarting",
        pid: null,
        lastExit: { at: now, ...exit, upMs },
        nextStartAt: now + delay,
      });
      log.error("stream processors exited; restarting", { ...exit, upMs, restartInMs: delay });
      await this.#clock.sleep(delay, signal);
    }
    this.#o.metrics?.up.set({}, 0);
    Object.assign(this.#status, { state: "stopped", pid: null, nextStartAt: null });
  }
}
