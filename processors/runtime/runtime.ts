/**
 * @module
 * The stream runtime: one kafkajs consumer (group `CONSUMER_GROUP`, no auto-commit) over the input
 * topics of the enabled jobs. Each assigned (topic, partition) gets a {@link PartitionWorker}
 * built from the checkpoints stored in Cassandra; records are parsed, dead-lettered or fanned out
 * to the jobs' tasks. A flush (every `FLUSH_INTERVAL_MS`, or when a partition has
 * `MAX_EVENTS_PER_BATCH` pending) snapshots every task, writes the rows in the background while
 * consumption goes on, then sends the dead letters, stores the checkpoints and commits the
 * earliest replay offset per partition to Kafka. Failed writes are retried with capped
 * exponential backoff while the consumer is paused and /health reports the outage.
 */
import type { Consumer, Kafka, KafkaMessage, Producer } from "kafkajs";
import type { ResolvedConfig, StreamJob, TopicKey } from "../../shared/config.ts";
import { topicKeyByName } from "../../shared/events.ts";
import type { Logger } from "../../shared/log.ts";
import type { Registry } from "../../shared/metrics.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { checkpointKey, type CheckpointStore } from "./checkpoint_store.ts";
import { deadLetter, DeadLetters } from "./dlq.ts";
import { Flusher } from "./flusher.ts";
import { LatencyTracker } from "./latency.ts";
import { Mutex } from "./lock.ts";
import { type ProcessorMetrics, processorMetrics } from "./metrics.ts";
import { Outcome, PartitionWorker } from "./partition_worker.ts";
import type { StatusStore } from "./status_store.ts";
import {
  type ComponentHealth,
  emptyStats,
  type HealthReport,
  healthReport,
  partitionStatuses,
  type RuntimeStats,
} from "./report.ts";
import type { Checkpoint, JobDefinition } from "./task.ts";

export type { ComponentHealth, HealthReport, RuntimeStats };

/** Options of {@link StreamRuntime}. */
export interface StreamRuntimeOptions {
  config: ResolvedConfig;
  /** The enabled jobs. */
  jobs: readonly JobDefinition[];
  kafka: Kafka;
  checkpoints: CheckpointStore;
  /** Where partition statuses go (stream_status); default none. */
  status?: StatusStore;
  log: Logger;
  metrics: Registry;
  /** Shown in the group and in stream_status.owner; default `<hostname>:<pid>`. */
  clientId?: string;
  /** Wall clock; default `Date.now`. */
  now?: () => number;
  /** How often stream_status is written; default 1000 ms. */
  statusIntervalMs?: number;
  /** How often the "Processed records" line is logged; default 10000 ms. */
  progressIntervalMs?: number;
  /** Retry delays of failed writes. */
  backoff?: BackoffOptions;
  /** kafkajs fetch size per partition; default 4 MiB. */
  maxBytesPerPartition?: number;
  /**
   * Consumer session time-out: how long the group waits for a silent member (e.g. a killed
   * process) before its partitions move; default 30000 ms (broker minimum 6000).
   */
  sessionTimeoutMs?: number;
  /**
   * Flushes writing their rows at once at most (checkpoints are still stored in flush order, and
   * written flushes waiting for them do not count); default 4. Past it, the flush timer skips a
   * beat and a partition over `MAX_EVENTS_PER_BATCH` pending events waits.
   */
  maxFlushesInFlight?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The speed layer's consumer loop. */
export class StreamRuntime {
  #o: StreamRuntimeOptions;
  #cfg: ResolvedConfig;
  #log: Logger;
  #m: ProcessorMetrics;
  #now: () => number;
  #clientId: string;
  #topicKeys: Map<string, TopicKey>;
  #topics: string[];
  #consumer: Consumer;
  #producer: Producer;
  #dlq: DeadLetters;
  #lock = new Mutex();
  #workers = new Map<string, PartitionWorker>();
  #assigned = new Set<string>();
  #checkpointCache: Map<string, Checkpoint> | undefined;
  /** Flushes: rows written concurrently, checkpoints stored strictly in order. */
  #flusher: Flusher;
  #committing = false;
  /** Consumer group generation (GROUP_JOIN count) and the generation each worker was set up in. */
  #generation = 0;
  #workerGen = new Map<string, number>();
  #latency: LatencyTracker;
  #stopping = false;
  #lowOffsets = new Map<string, Promise<Map<number, number>>>();
  #stopped: Promise<void> | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #cassandra: ComponentHealth;
  #kafka: ComponentHealth;
  #reasons = new Map<string, string>();
  #paused = false;
  #fatal: ((e: Error) => void) | undefined;
  #stats: RuntimeStats = emptyStats();
  #maxFlushesInFlight: number;

  constructor(options: StreamRuntimeOptions) {
    this.#o = options;
    this.#cfg = options.config;
    this.#log = options.log;
    this.#m = processorMetrics(options.metrics);
    this.#now = options.now ?? Date.now;
    this.#clientId = options.clientId ?? `${Deno.hostname()}:${Deno.pid}`;
    this.#topicKeys = topicKeyByName(this.#cfg.topics);
    const keys = new Set<TopicKey>();
    for (const j of options.jobs) for (const t of j.topics) keys.add(t);
    this.#topics = [...keys].map((k) => this.#cfg.topics[k]).sort();
    this.#latency = new LatencyTracker(this.#m.eventToView);
    this.#consumer = options.kafka.consumer({
      groupId: this.#cfg.consumerGroup,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.max(500, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10)),
      maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      maxWaitTimeInMs: 250,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.#producer = options.kafka.producer({ allowAutoTopicCreation: false });
    this.#dlq = new DeadLetters(this.#producer);
    this.#maxFlushesInFlight = options.maxFlushesInFlight ?? 4;
    this.#flusher = new Flusher({
      maxInFlight: this.#maxFlushesInFlight,
      workers: () => this.#workers.values(),
      checkpoints: options.checkpoints,
      dlq: this.#dlq,
      latency: this.#latency,
      metrics: this.#m,
      stats: this.#stats,
      log: this.#log,
      now: this.#now,
      backoff: options.backoff,
      // Not awaited: a commit waits for a rebalance to finish, which may wait for a flush.
      afterFlush: () => this.#commit(),
      onFailure: (stage, e) => {
        this.#reasons.set(stage, `${stage} failing: ${errText(e)}`);
        if (stage !== "send dead letters") this.#setCassandra("down", errText(e));
        this.#pause();
      },
      onSuccess: (stage, recovered) => {
        this.#reasons.delete(stage);
        if (stage !== "send dead letters") this.#setCassandra("up");
        if (recovered) this.#resume();
      },
    });
    const t = new Date(this.#now()).toISOString();
    this.#cassandra = { state: "unknown", since: t };
    this.#kafka = { state: "disconnected", since: t };
    options.metrics.onCollect(() => this.#refreshGauges());
  }

  /** Input topics consumed (actual names). */
  get topics(): readonly string[] {
    return this.#topics;
  }

  /** Counters since start. */
  stats(): RuntimeStats & { latencyMs: ReturnType<LatencyTracker["quantiles"]> } {
    return { ...this.#stats, latencyMs: this.#latency.quantiles() };
  }

  /** Forgets the latencies recorded so far (benchmarks: after a warm-up). */
  resetLatency(): void {
    this.#latency.reset();
  }

  /**
   * Connects, joins the group and starts consuming.
   * @param onFatal called when the consumer crashed for good (the process should exit)
   */
  async start(onFatal?: (e: Error) => void): Promise<void> {
    this.#fatal = onFatal;
    const c = this.#consumer;
    const ev = c.events;
    c.on(ev.CONNECT, () => this.#setKafka("connected"));
    c.on(ev.DISCONNECT, () => this.#setKafka("disconnected"));
    c.on(ev.STOP, () => this.#setKafka("stopped"));
    c.on(ev.REBALANCING, () => {
      this.#setKafka("rebalancing");
      this.#log.info("consumer group rebalancing");
      // Best effort: a final flush shortens the new owners' replay.
      if (!this.#stopping) this.flush().catch(() => {});
    });
    c.on(ev.GROUP_JOIN, (e) => this.#onJoin(e.payload.memberAssignment, e.payload.memberId));
    c.on(ev.CRASH, (e) => {
      const { error, restart } = e.payload;
      this.#setKafka("crashed", errText(error));
      this.#log.error("consumer crashed", { error, restart });
      if (!restart && !this.#stopping) this.#fatal?.(error);
    });
    await this.#producer.connect();
    await c.connect();
    await c.subscribe({ topics: this.#topics, fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (p) => this.#eachBatch(p),
    });
    const every = (ms: number, fn: () => void) => this.#timers.push(setInterval(fn, ms));
    every(this.#cfg.flushIntervalMs, () => {
      const last = this.#flusher.lastStartAt;
      const due = last === undefined || this.#now() - last >= this.#cfg.flushIntervalMs / 2;
      if (!this.#stopping && due && this.#flusher.canStart) this.flush().catch(() => {});
    });
    every(this.#o.statusIntervalMs ?? 1000, () => this.#writeStatus());
    let last = { t: this.#now(), records: 0 };
    every(this.#o.progressIntervalMs ?? 10_000, () => {
      const t = this.#now(), s = this.#stats;
      const rate = ((s.records - last.records) * 1000) / Math.max(1, t - last.t);
      last = { t, records: s.records };
      this.#log.info("Processed records", {
        ...s,
        ratePerSec: Math.round(rate),
        partitions: this.#workers.size,
        lag: this.#totalLag(),
        latencyMs: this.#latency.quantiles(),
      });
    });
    this.#log.info("stream processors started", {
      jobs: this.#o.jobs.map((j) => j.name),
      topics: this.#topics,
      consumerGroup: this.#cfg.consumerGroup,
      clientId: this.#clientId,
    });
  }

  /**
   * Stops consuming, flushes everything, stores checkpoints, commits, leaves the group and
   * disconnects. Safe to call twice.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#flusher.stopDeadline = this.#now() + 60_000;
    for (const t of this.#timers) clearInterval(t);
    this.#log.info("stopping: final flush, then leaving the group");
    try {
      this.#consumer.pause(this.#topics.map((topic) => ({ topic })));
    } catch { /* not running */ }
    let error: unknown;
    try {
      await this.#flushAll({ deadlineMs: 60_000 });
      // A second, quiet flush writes what the first deferred (future sliding windows).
      await this.#flushAll({ deadlineMs: 30_000 });
    } catch (e) {
      error = e;
      this.#log.error("final flush failed; the next owner replays from the last checkpoint", {
        error: e,
      });
    }
    await this.#writeStatus();
    try {
      await this.#consumer.disconnect();
    } catch (e) {
      this.#log.warn("consumer disconnect failed", { error: e });
    }
    try {
      await this.#producer.disconnect();
    } catch (e) {
      this.#log.warn("producer disconnect failed", { error: e });
    }
    for (const w of this.#workers.values()) await w.close();
    this.#workers.clear();
    this.#log.info("stream processors stopped", { ...this.#stats });
    if (error) throw error;
  }

  /** Flushes now: snapshots every task and waits until that flush (and every earlier one) is stored. */
  flush(): Promise<void> {
    return this.#flushAll({});
  }

  async #flushAll(o: { deadlineMs?: number }): Promise<void> {
    const deadline = o.deadlineMs === undefined ? Infinity : this.#now() + o.deadlineMs;
    const release = await this.#lock.acquire();
    let queued: { done: Promise<void> };
    try {
      queued = await this.#flusher.start(deadline);
    } finally {
      release();
    }
    await queued.done;
  }

  /**
   * Commits the earliest replay offset of every owned partition (where a new owner starts
   * reading). Commits only save re-reading: at most one runs at a time and none is awaited.
   */
  #commit(): void {
    if (this.#committing) return;
    const offsets = [];
    for (const w of this.#workers.values()) {
      const o = w.commitOffset();
      if (o !== undefined && o >= 0 && this.#assigned.has(`${w.topicName}|${w.partition}`)) {
        offsets.push({ topic: w.topicName, partition: w.partition, offset: String(o) });
      }
    }
    if (offsets.length === 0) return;
    this.#committing = true;
    this.#consumer.commitOffsets(offsets).catch((e) => {
      // During a rebalance the commit may be refused; the next flush commits again.
      this.#log.debug("offset commit failed", { error: errText(e) });
    }).finally(() => this.#committing = false);
  }

  #pause(): void {
    if (this.#paused || this.#stopping) return;
    this.#paused = true;
    try {
      this.#consumer.pause(this.#topics.map((topic) => ({ topic })));
      this.#log.warn("consumer paused until writes succeed again");
    } catch { /* not running yet */ }
  }

  #resume(): void {
    if (!this.#paused || this.#stopping) return;
    this.#paused = false;
    try {
      this.#consumer.resume(this.#topics.map((topic) => ({ topic })));
      this.#log.info("consumer resumed");
    } catch { /* not running */ }
  }

  #onJoin(assignment: Record<string, number[]>, memberId: string): void {
    const next = new Set<string>();
    for (const [topic, parts] of Object.entries(assignment)) {
      for (const p of parts) next.add(`${topic}|${p}`);
    }
    this.#assigned = next;
    this.#generation++;
    this.#lowOffsets.clear();
    this.#checkpointCache = undefined;
    this.#setKafka("connected");
    this.#log.info("partitions assigned", {
      memberId,
      partitions: next.size,
      generation: this.#generation,
    });
    // Every partition restarts from its stored checkpoint after a rebalance (recovery and
    // scale-out are one mechanism); flush what was processed first so the replay is short.
    if (this.#workers.size > 0) {
      this.#lock.run(() => this.#retireStale()).catch((e) =>
        this.#log.warn("retiring partitions after a rebalance failed", { error: errText(e) })
      );
    }
  }

  /**
   * Flushes, then closes and forgets every worker of an earlier group generation (call holding
   * the lock). A kept worker could miss records: its partition may have been processed elsewhere
   * meanwhile, and Kafka resumes it from that owner's committed offset.
   */
  async #retireStale(heartbeat?: () => Promise<void>): Promise<void> {
    const gen = this.#generation;
    const stale = [...this.#workers].filter(([k]) => this.#workerGen.get(k) !== gen);
    if (stale.length === 0) return;
    const { done } = await this.#flusher.start(Infinity);
    let beat = this.#now();
    for (;;) {
      const ok = await Promise.race([
        done.then(() => true, () => true),
        sleep(250).then(() => false),
      ]);
      if (ok) break;
      if (heartbeat && this.#now() - beat >= 2_000) {
        beat = this.#now();
        await heartbeat().catch(() => {});
      }
    }
    for (const [k, w] of stale) {
      this.#workers.delete(k);
      this.#workerGen.delete(k);
      await w.close();
    }
    this.#checkpointCache = undefined;
    this.#log.info("partitions retired after a rebalance", { partitions: stale.length });
  }

  async #eachBatch(p: {
    batch: { topic: string; partition: number; highWatermark: string; messages: KafkaMessage[] };
    heartbeat: () => Promise<void>;
    isRunning: () => boolean;
    isStale: () => boolean;
    resolveOffset: (offset: string) => void;
  }): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = p;
    if (this.#stopping || batch.messages.length === 0) return;
    const key = `${batch.topic}|${batch.partition}`;
    let flushNow = false;
    const release = await this.#lock.acquire();
    try {
      await this.#retireStale(heartbeat);
      let w = this.#workers.get(key);
      if (w && w.position >= 0 && Number(batch.messages[0].offset) > w.position) {
        this.#log.warn("offset gap: records skipped by Kafka", {
          topic: batch.topic,
          partition: batch.partition,
          expected: w.position,
          got: Number(batch.messages[0].offset),
        });
      }
      if (!w) {
        w = await this.#initWorker(batch.topic, batch.partition, heartbeat);
        if (!w) return;
        const first = Number(batch.messages[0].offset);
        const start = w.startOffset ?? await this.#logStart(batch.topic, batch.partition);
        if (first > start) {
          this.#log.info("seeking back to the replay offset", {
            topic: batch.topic,
            partition: batch.partition,
            from: first,
            to: start,
          });
          this.#consumer.seek({
            topic: batch.topic,
            partition: batch.partition,
            offset: String(start),
          });
          return;
        }
      }
      w.endOffset = Number(batch.highWatermark);
      const topicLabel = { topic: batch.topic };
      const max = this.#cfg.maxEventsPerBatch;
      let handled: string | undefined;
      let t = performance.now();
      for (const m of batch.messages) {
        if (!isRunning() || isStale() || this.#stopping) break;
        const offset = Number(m.offset);
        const ts = Number(m.timestamp);
        const out = w.handle({ offset, timestamp: ts, key: m.key, value: m.value });
        handled = m.offset;
        if (out === Outcome.Skipped) continue;
        if (out === Outcome.Replayed) {
          this.#stats.replayed++;
          this.#m.replayed.inc(topicLabel);
          continue;
        }
        this.#stats.records++;
        this.#m.eventsIn.inc(topicLabel);
        switch (out) {
          case Outcome.Applied:
            this.#stats.applied++;
            this.#latency.mark(ts);
            break;
          case Outcome.Duplicate:
            this.#stats.duplicates++;
            this.#m.deduplicated.inc(topicLabel);
            break;
          case Outcome.Late:
            this.#stats.late++;
            this.#m.late.inc(topicLabel);
            break;
          case Outcome.Invalid: {
            const r = w.lastRejection!;
            this.#stats.invalid++;
            this.#m.rejected.inc({ topic: batch.topic, reason: r.reason });
            this.#dlq.add(
              batch.topic,
              deadLetter(
                { key: m.key, value: m.value, timestamp: m.timestamp, headers: m.headers },
                { topic: batch.topic, partition: batch.partition, offset, job: w.lastRejectedBy },
                r,
              ),
            );
            break;
          }
        }
        if (w.pending >= max) {
          this.#stats.handleMs += performance.now() - t;
          // Backpressure: a bounded number of flushes in flight; keep the group membership meanwhile.
          const stop = () => !isRunning() || isStale() || this.#stopping;
          if (!(await this.#flusher.waitIdle(heartbeat, stop, true))) {
            t = performance.now();
            break;
          }
          await this.#flusher.start(Infinity);
          t = performance.now();
        }
      }
      this.#stats.handleMs += performance.now() - t;
      // kafkajs fetches on from the last resolved offset (committed offsets trail far behind).
      if (handled !== undefined && !isStale()) resolveOffset(handled);
      flushNow = this.#flusher.lastStartAt === undefined ||
        this.#now() - this.#flusher.lastStartAt >= this.#cfg.flushIntervalMs;
    } finally {
      release();
    }
    if (flushNow && this.#flusher.canStart && !this.#stopping) this.flush().catch(() => {});
  }

  /** The first offset still in the log (for jobs without a checkpoint), cached per assignment. */
  async #logStart(topic: string, partition: number): Promise<number> {
    let offsets = this.#lowOffsets.get(topic);
    if (!offsets) {
      offsets = (async () => {
        const admin = this.#o.kafka.admin();
        await admin.connect();
        try {
          const list = await admin.fetchTopicOffsets(topic);
          return new Map(list.map((o) => [o.partition, Number(o.low)]));
        } finally {
          await admin.disconnect();
        }
      })();
      offsets.catch(() => this.#lowOffsets.delete(topic));
      this.#lowOffsets.set(topic, offsets);
    }
    return (await offsets).get(partition) ?? 0;
  }

  async #initWorker(
    topicName: string,
    partition: number,
    heartbeat: () => Promise<void>,
  ): Promise<PartitionWorker | undefined> {
    const topic = this.#topicKeys.get(topicName);
    if (!topic) throw new Error(`Assigned an unknown topic ${topicName}`);
    const jobs = this.#o.jobs.filter((j) => j.topics.includes(topic));
    for (let attempt = 0; !this.#stopping; attempt++) {
      try {
        this.#checkpointCache ??= await this.#o.checkpoints.loadAll();
        const checkpoints = new Map<StreamJob, Checkpoint>();
        for (const j of jobs) {
          const c = this.#checkpointCache.get(checkpointKey(j.name, topicName, partition));
          if (c) checkpoints.set(j.name, c);
        }
        const w = await PartitionWorker.create({
          topic,
          topicName,
          partition,
          jobs,
          checkpoints,
          allowedLatenessMs: this.#cfg.allowedLatenessMs,
          now: this.#now,
        });
        this.#workers.set(`${topicName}|${partition}`, w);
        this.#workerGen.set(`${topicName}|${partition}`, this.#generation);
        this.#reasons.delete("partition set-up");
        this.#setCassandra("up");
        this.#log.info("partition ready", {
          topic: topicName,
          partition,
          jobs: jobs.map((j) => j.name),
          startOffset: w.startOffset ?? "log start",
          checkpoints: checkpoints.size,
        });
        return w;
      } catch (e) {
        this.#checkpointCache = undefined;
        this.#reasons.set("partition set-up", `partition set-up failing: ${errText(e)}`);
        this.#setCassandra("down", errText(e));
        const wait = backoffDelay(attempt, this.#o.backoff);
        this.#log.warn("partition set-up failed; retrying", {
          topic: topicName,
          partition,
          retryInMs: wait,
          error: errText(e),
        });
        await sleep(wait);
        await heartbeat().catch(() => {});
      }
    }
    return undefined;
  }

  #setCassandra(state: string, error?: string): void {
    if (this.#cassandra.state === state && this.#cassandra.error === error) return;
    if (this.#cassandra.state !== state) {
      this.#cassandra = { state, since: new Date(this.#now()).toISOString() };
      if (state === "down") this.#log.error("Cassandra unavailable", { error });
      else if (state === "up") this.#log.info("Cassandra available");
    }
    if (error !== undefined) this.#cassandra.error = error;
    else delete this.#cassandra.error;
  }

  #setKafka(state: string, error?: string): void {
    if (this.#kafka.state === state) return;
    this.#kafka = {
      state,
      since: new Date(this.#now()).toISOString(),
      ...(error ? { error } : {}),
    };
  }

  #totalLag(): number {
    let lag = 0;
    for (const w of this.#workers.values()) {
      if (w.endOffset >= 0) lag += Math.max(0, w.endOffset - w.position);
    }
    return lag;
  }

  async #writeStatus(): Promise<void> {
    if (!this.#o.status) return;
    try {
      await this.#o.status.write(partitionStatuses(this.#workers.values()), this.#clientId);
    } catch (e) {
      this.#log.debug("stream_status write failed", { error: errText(e) });
    }
  }

  #refreshGauges(): void {
    this.#m.assigned.set({}, this.#assigned.size);
    for (const w of this.#workers.values()) {
      const labels = { topic: w.topicName, partition: w.partition };
      if (w.endOffset >= 0) this.#m.lag.set(labels, Math.max(0, w.endOffset - w.position));
      const wm = w.gate?.watermark;
      if (wm !== undefined && Number.isFinite(wm)) this.#m.watermark.set(labels, wm);
    }
  }

  /** The /health report. */
  health(): HealthReport {
    const reasons = [...this.#reasons.values()];
    if (this.#kafka.state === "crashed") {
      reasons.push(`kafka consumer crashed: ${this.#kafka.error}`);
    }
    return healthReport({
      now: this.#now(),
      reasons,
      consumerGroup: this.#cfg.consumerGroup,
      clientId: this.#clientId,
      assignedPartitions: this.#assigned.size,
      jobs: this.#o.jobs.map((j) => j.name),
      workers: [...this.#workers.values()],
      lastCheckpointAt: this.#flusher.lastCheckpointAt,
      lastFlushAt: this.#flusher.lastFlushAt,
      lastFlushMs: this.#flusher.lastFlushMs,
      idlePartitionMs: this.#cfg.idlePartitionMs,
      cassandra: this.#cassandra,
      kafka: this.#kafka,
      pendingDeadLetters: this.#dlq.queued,
      stats: this.#stats,
      eventToViewMs: this.#latency.quantiles(),
    });
  }
}
