/**
 * @module
 * Flushes of the stream runtime: a flush snapshots every partition's tasks synchronously (rows and
 * checkpoints), then — while consumption goes on — writes the rows, sends the dead letters and
 * stores the checkpoints. Up to `maxInFlight` flushes write their rows at once (a slow flush does
 * not hold back the rows of the next one, and the write path never idles between flushes); rows
 * are idempotent upserts with explicit write timestamps, so the order in which flushes land does
 * not matter. Checkpoints are stored strictly in flush order and only after the rows of that flush
 * and of every earlier one are written, so a stored checkpoint never covers unwritten rows; when
 * the next flush's rows are already written, an earlier flush's checkpoints are skipped (the next
 * flush stores newer ones). Failed stages are retried with capped exponential backoff.
 */
import type { StreamJob } from "../../shared/config.ts";
import type { Logger } from "../../shared/log.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import type { CheckpointEntry, CheckpointStore } from "./checkpoint_store.ts";
import type { DeadLetters } from "./dlq.ts";
import type { Epoch, LatencyTracker } from "./latency.ts";
import type { ProcessorMetrics } from "./metrics.ts";
import type { PartitionWorker } from "./partition_worker.ts";
import type { RuntimeStats } from "./report.ts";
import type { Checkpoint, PreparedFlush } from "./task.ts";

/** What the flusher works with. */
export interface FlusherOptions {
  /** The partitions to flush (the runtime's current workers). */
  workers: () => Iterable<PartitionWorker>;
  checkpoints: CheckpointStore;
  dlq: DeadLetters;
  latency: LatencyTracker;
  metrics: ProcessorMetrics;
  /** Counters updated in place. */
  stats: RuntimeStats;
  log: Logger;
  now: () => number;
  backoff?: BackoffOptions;
  /** After every stored flush (e.g. commit offsets; must not block). */
  afterFlush: () => void;
  /** A stage failed (the runtime pauses consumption and reports the reason). */
  onFailure: (stage: string, error: unknown) => void;
  /** A stage succeeded, `recovered` when it had failed before. */
  onSuccess: (stage: string, recovered: boolean) => void;
  /** Flushes writing rows at once at most; default 4. */
  maxInFlight?: number;
}

interface FlushJob {
  prepared: { worker: PartitionWorker; job: StreamJob; f: PreparedFlush }[];
  checkpoints: { worker: PartitionWorker; job: StreamJob; c: Checkpoint }[];
  epoch: Epoch;
  startedAt: number;
  /** Every row of this flush is written. */
  written: boolean;
  /** The flush started after this one. */
  next: FlushJob | undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Ordered, retried flushes. */
export class Flusher {
  /** Retries give up after this instant (set when stopping). */
  stopDeadline = Infinity;
  /** When the last flush was started (snapshotted). */
  lastStartAt: number | undefined;
  lastFlushAt: number | undefined;
  lastFlushMs: number | undefined;
  /** When each job last stored a checkpoint. */
  readonly lastCheckpointAt = new Map<string, number>();
  #o: FlusherOptions;
  #tail: Promise<void> = Promise.resolve();
  #last: FlushJob | undefined;
  #queued = 0;
  /** Flushes whose rows are still being written. */
  #writing = 0;
  /** Resolved (and replaced) whenever a flush's rows are written or a flush is stored. */
  #progress = Promise.withResolvers<void>();
  #maxInFlight: number;

  constructor(options: FlusherOptions) {
    this.#o = options;
    this.#maxInFlight = options.maxInFlight ?? 4;
    if (!(Number.isInteger(this.#maxInFlight) && this.#maxInFlight >= 1)) {
      throw new RangeError(
        `Cannot create flusher: 'maxInFlight' must be an integer ≥ 1, got ${options.maxInFlight}`,
      );
    }
  }

  /** Flushes started and not yet stored. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Whether another flush may start now: fewer than `maxInFlight` are writing rows (flushes whose
   * rows are written and whose checkpoints wait for an earlier flush do not count).
   */
  get canStart(): boolean {
    return this.#writing < this.#maxInFlight;
  }

  /**
   * Snapshots every task (call holding the runtime's lock), starts writing the rows at once and
   * queues the checkpoints behind every earlier flush. A flush that failed for good (only past a
   * deadline, at shutdown) fails every later one.
   */
  async start(deadline: number): Promise<{ done: Promise<void> }> {
    const job = await this.#snapshot();
    this.#queued++;
    this.#writing++;
    this.lastStartAt = this.#o.now();
    if (this.#last) this.#last.next = job;
    this.#last = job;
    const written = this.#write(job, deadline).finally(() => {
      this.#writing--;
      this.#signal();
    });
    const prev = this.#tail;
    const done = Promise.all([written, prev]).then(() => this.#store(job, deadline)).finally(
      () => {
        this.#queued--;
        if (this.#last === job) this.#last = undefined;
        job.next = undefined;
        this.#signal();
      },
    );
    this.#tail = done;
    written.catch(() => {}); // observed through done
    done.catch(() => {}); // observed by the caller or the next flush
    return { done };
  }

  #signal(): void {
    this.#progress.resolve();
    this.#progress = Promise.withResolvers<void>();
  }

  /**
   * Waits until no flush is queued (or, with `slot`, until another flush may start), calling
   * `heartbeat` every 2 s; gives up (false) as soon as `abort()` says so.
   */
  async waitIdle(
    heartbeat?: () => Promise<void>,
    abort: () => boolean = () => false,
    slot = false,
  ): Promise<boolean> {
    const now = this.#o.now;
    let beat = now();
    while (slot ? !this.canStart : this.#queued > 0) {
      if (abort()) return false;
      await Promise.race([this.#progress.promise, sleep(250)]);
      if (heartbeat && now() - beat >= 2_000) {
        beat = now();
        await heartbeat().catch(() => {});
      }
    }
    return true;
  }

  /**
   * Runs `fn` until it succeeds (or the deadline passes), backing off. A first-try success of a
   * call that did no I/O (`didIo` false: nothing to write) is not reported: during an outage an
   * empty flush would otherwise report the store healthy between the failures of real ones.
   */
  async retry<T>(stage: string, fn: () => Promise<T>, deadline: number, didIo = true): Promise<T> {
    const o = this.#o;
    for (let attempt = 0;; attempt++) {
      try {
        const out = await fn();
        if (attempt > 0) o.log.info(`${stage}: recovered`, { attempts: attempt + 1 });
        if (didIo || attempt > 0) o.onSuccess(stage, attempt > 0);
        return out;
      } catch (e) {
        o.metrics.flushFailures.inc({ stage });
        o.onFailure(stage, e);
        const wait = backoffDelay(attempt, o.backoff);
        if (o.now() + wait > Math.min(deadline, this.stopDeadline)) throw e;
        o.log.warn(`${stage} failed; retrying`, {
          attempt: attempt + 1,
          retryInMs: wait,
          error: e instanceof Error ? e.message : String(e),
        });
        await sleep(wait);
      }
    }
  }

  /** Snapshots every partition's flush (call holding the lock). */
  async #snapshot(): Promise<FlushJob> {
    const t0 = performance.now();
    const job: FlushJob = {
      prepared: [],
      checkpoints: [],
      epoch: this.#o.latency.seal(),
      startedAt: this.#o.now(),
      written: false,
      next: undefined,
    };
    for (const w of this.#o.workers()) {
      for (const f of w.prepareFlush()) {
        if (f.prepared) {
          job.prepared.push({ worker: w, job: f.job, f: f.prepared });
          job.checkpoints.push({ worker: w, job: f.job, c: f.prepared.checkpoint });
        } else if (f.flush) {
          // A one-phase task (the archiver): flush now, with retries, before any new record.
          const c = await this.retry("flush " + f.job, f.flush, Infinity);
          job.checkpoints.push({ worker: w, job: f.job, c });
        }
      }
    }
    this.#o.dlq.kick();
    this.#o.stats.snapshotMs += performance.now() - t0;
    return job;
  }

  /** Writes a snapshot's rows (retried until the deadline). */
  async #write(job: FlushJob, deadline: number): Promise<void> {
    let rows = 0;
    for (const p of job.prepared) rows += p.f.rows;
    const t0 = performance.now();
    await this.retry(
      "write rows",
      async () => {
        await Promise.all(job.prepared.map((p) => p.f.write()));
      },
      deadline,
      rows > 0,
    );
    this.#o.stats.writeMs += performance.now() - t0;
    this.#o.latency.complete(job.epoch, this.#o.now());
    for (const p of job.prepared) {
      let known = 0;
      for (const [table, n] of p.f.rowsByTable ?? []) {
        this.#o.metrics.rowsWritten.inc({ table }, n);
        known += n;
      }
      if (p.f.rows > known) this.#o.metrics.rowsWritten.inc({ table: "other" }, p.f.rows - known);
    }
    this.#o.stats.rowsWritten += rows;
    job.written = true;
    job.prepared = []; // the rows are no longer needed; the checkpoints may wait a while
    job.epoch = [];
  }

  /**
   * Sends the dead letters and stores the checkpoints of a flush whose rows, and those of every
   * earlier flush, are written; then commits.
   */
  async #store(job: FlushJob, deadline: number): Promise<void> {
    const t1 = performance.now();
    await this.retry("send dead letters", () => this.#o.dlq.flush(), deadline);
    const changed: CheckpointEntry[] = [];
    const marks: (() => void)[] = [];
    if (!this.#supersededBy(job, job.next)) {
      for (const { worker, job: name, c } of job.checkpoints) {
        const old = worker.stored(name);
        if (
          old && old.nextOffset === c.nextOffset && old.replayOffset === c.replayOffset &&
          old.watermark === c.watermark
        ) continue;
        changed.push({
          job: name,
          topic: worker.topicName,
          partition: worker.partition,
          checkpoint: c,
        });
        marks.push(() => worker.markStored(name, c));
      }
      await this.retry(
        "store checkpoints",
        () => this.#o.checkpoints.store(changed),
        deadline,
        changed.length > 0,
      );
      for (const mark of marks) mark();
    }
    this.#o.stats.checkpointMs += performance.now() - t1;
    const t = this.#o.now();
    for (const e of changed) this.lastCheckpointAt.set(e.job, t);
    if (changed.length > 0) this.#o.afterFlush();
    this.lastFlushAt = t;
    this.lastFlushMs = t - job.startedAt;
    this.#o.metrics.flushSeconds.observe({}, (t - job.startedAt) / 1000);
    this.#o.stats.flushes++;
  }

  /**
   * Whether `next` (already written) stores a checkpoint for every task `job` has one for, so
   * `job`'s own checkpoints need not be stored.
   */
  #supersededBy(job: FlushJob, next: FlushJob | undefined): boolean {
    if (!next || !next.written || job.checkpoints.length === 0) return false;
    const key = (e: FlushJob["checkpoints"][number]) =>
      `${e.worker.topicName}\u0000${e.worker.partition}\u0000${e.job}`;
    const covered = new Set(next.checkpoints.map(key));
    return job.checkpoints.every((e) => covered.has(key(e)));
  }
}
