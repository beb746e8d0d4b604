/**
 * @module
 * Test doubles of the orchestrator (unit tests only): a mutable manifest view, a fake batch runner
 * that "publishes" what it ran, a fake child-process spawner, and a silent logger.
 */
import { createLogger, type Logger } from "../shared/log.ts";
import { HOUR_MS, hourKey, isoDate } from "../shared/time.ts";
import type { ChildExit, ChildHandle, ChildSpec, Spawner } from "./process.ts";
import type { PublishedInfo } from "./published.ts";
import type { BatchRunner, BatchRunResult, RunOptions } from "./runner.ts";
import type { PlannedRun, Published, ScheduleOptions } from "./scheduler.ts";

export const DAY0 = Date.UTC(2026, 10, 20); // 2026-11-20T00:00Z

/** Default schedule of the tests: delay 5 min, daily at 02:00, 3 attempts, 30 s → 600 s backoff. */
export function testSchedule(over: Partial<ScheduleOptions> = {}): ScheduleOptions {
  return {
    hourlyDelayMs: 5 * 60_000,
    dailyAtMs: 2 * HOUR_MS,
    hourlyJobs: ["hourly_aggregate", "views"],
    dailyJobs: ["daily_summary", "user_segmentation"],
    maxAttempts: 3,
    retryBaseMs: 30_000,
    retryMaxMs: 600_000,
    ...over,
  };
}

/** A logger that keeps its records. */
export function memoryLogger(): { log: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const log = createLogger({
    name: "test",
    level: "debug",
    write: (line) => records.push(JSON.parse(line)),
  });
  return { log, records };
}

/** A manifest view the tests (and the fake runner) change. */
export class FakeManifest {
  hours = new Set<string>();
  days = new Map<string, Set<string>>();

  publishHour(start: number): void {
    this.hours.add(hourKey(start));
  }

  publishDay(day: number, views: string[]): void {
    const set = this.days.get(isoDate(day)) ?? new Set<string>();
    for (const v of views) set.add(v);
    this.days.set(isoDate(day), set);
  }

  /** The published view, as `manifestSource` returns it. */
  source = (): Promise<PublishedInfo> => {
    const published: Published = { hours: new Set(this.hours), days: new Map(this.days) };
    const starts = [...this.hours].map((k) => Date.parse(`${k}:00:00Z`)).sort((a, b) => a - b);
    let through: number | null = null;
    if (starts.length > 0) {
      through = starts[0] + HOUR_MS;
      for (let i = 1; i < starts.length && starts[i] === through; i++) through += HOUR_MS;
    }
    return Promise.resolve({ published, batchThrough: through });
  };
}

/** Decides a fake run's outcome. */
export type Behaviour = (run: PlannedRun, call: number) => BatchRunResult | Promise<BatchRunResult>;

/**
 * A batch runner that records its calls and, on success, publishes the run's hours (when it
 * includes `views`) and daily views in a {@link FakeManifest}, like `deno task batch` does.
 */
export class FakeRunner implements BatchRunner {
  readonly calls: PlannedRun[] = [];
  behaviour: Behaviour;
  publish = true;

  constructor(readonly manifest: FakeManifest, behaviour?: Behaviour) {
    this.behaviour = behaviour ?? (() => ({ outcome: "succeeded", exitCode: 0 }));
  }

  async run(run: PlannedRun, options: RunOptions = {}): Promise<BatchRunResult> {
    this.calls.push(run);
    options.onStart?.(1000 + this.calls.length);
    const result = await this.behaviour(run, this.calls.length);
    if (result.outcome === "succeeded" && this.publish) {
      if (run.jobs.includes("views")) {
        const hours = run.kind === "daily" || run.slots.length === 24
          ? Array.from({ length: 24 }, (_, h) => run.slots[0] + h * HOUR_MS)
          : run.slots;
        for (const h of hours) this.manifest.publishHour(h);
      }
      if (run.kind === "daily") {
        this.manifest.publishDay(
          run.slots[0],
          run.jobs.filter((j) => j === "daily_summary" || j === "user_segmentation"),
        );
      }
    }
    return result;
  }

  /** The keys of the runs, in call order. */
  keys(): string[] {
    return this.calls.map((c) => c.key);
  }
}

/** A promise with its resolver exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A fake child: exits when the test says so, or on a signal when `exitOn` includes it. */
export class FakeChild implements ChildHandle {
  readonly signals: string[] = [];
  groupKilled = false;
  readonly #exit = deferred<ChildExit>();
  readonly exited: Promise<ChildExit> = this.#exit.promise;
  stderr: string[] = [];
  stdout: string[] = [];

  constructor(
    readonly pid: number,
    readonly spec: ChildSpec,
    readonly exitOn: readonly string[] = ["SIGTERM"],
  ) {}

  exit(code: number, signal: string | null = null): void {
    this.#exit.resolve({ code, signal });
  }

  signal(signal: Deno.Signal): void {
    this.signals.push(signal);
    if (this.exitOn.includes(signal)) this.exit(143, signal);
  }

  killGroup(): void {
    this.groupKilled = true;
    this.exit(137, "SIGKILL");
  }

  tail() {
    return { stdout: [...this.stdout], stderr: [...this.stderr] };
  }
}

/** A spawner of {@link FakeChild}ren; each spawn notifies `onSpawn`. */
export class FakeSpawner implements Spawner {
  readonly children: FakeChild[] = [];
  exitOn: readonly string[] = ["SIGTERM"];
  failNext: Error | null = null;
  #waiters: ((c: FakeChild) => void)[] = [];

  spawn(spec: ChildSpec): ChildHandle {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    const child = new FakeChild(100 + this.children.length, spec, this.exitOn);
    this.children.push(child);
    for (const w of this.#waiters.splice(0)) w(child);
    return child;
  }

  /** Resolves with the `n`th child (1-based) once it was spawned. */
  async nth(n: number): Promise<FakeChild> {
    while (this.children.length < n) {
      await new Promise<FakeChild>((r) => this.#waiters.push(r));
    }
    return this.children[n - 1];
  }
}

/** Lets pending promise callbacks run (no timers involved). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
