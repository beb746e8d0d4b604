/**
 * @module
 * The `data_enrichment` stream job: every event of the eight user topics, joined with the user
 * dimension, the user's latest device and country, an engagement score and risk flags, to the
 * Kafka topic `enriched_events` (exactly once for read_committed consumers, kafka_sink.ts) and to
 * Parquet under `OUTPUTS_DIR/enriched_events/`. See docs/ENRICHMENT.md.
 *
 * A task buffers its events and enriches them at flush, in offset order, once a commit is due:
 * the user rows are read through the shared {@link DimCache} (asynchronous, hence not in
 * `onEvent`), the per-user state of the partition number is shared by the tasks of every topic.
 * Per flush: `users_dim` writes (profile fields, device/country, risk), then one sink commit of
 * the messages with the source offset they reach, then the Parquet roll when due, then the
 * checkpoint. Offsets below the sink's committed offset are never produced again; Parquet files
 * from the checkpoint on are deleted by a new owner and rewritten.
 */
import type { ResolvedConfig, TopicKey } from "../../../shared/config.ts";
import type { ValidEvent } from "../../../shared/events.ts";
import type { Logger } from "../../../shared/log.ts";
import type { Counter, Registry } from "../../../shared/metrics.ts";
import { DedupFilter } from "../../operators/dedup.ts";
import { earliest } from "../../operators/replay_point.ts";
import type {
  Checkpoint,
  JobDefinition,
  PartitionTask,
  PreparedFlush,
  RecordMeta,
  TaskContext,
} from "../../runtime/task.ts";
import type { DimFeed } from "../cdc/dim_feed.ts";
import { processDimFeed } from "../cdc/dim_feed.ts";
import { removeFilesFrom, writeOffsetFiles } from "../cdc/offset_files.ts";
import type { AuthWrite, ProfileWrite, RiskWrite, UserDimStore } from "../cdc/user_dim.ts";
import { DimCache, type DimCacheOptions } from "./dim_cache.ts";
import {
  ENRICHED_COLUMNS,
  ENRICHED_DIR,
  type EnrichedMessage,
  enrichedMessage,
  type EnrichedRow,
  enrichedRow,
  FLAGS,
} from "./enriched.ts";
import { enrich, PartitionEnricher } from "./enricher.ts";
import { HorizonQueue } from "./horizon.ts";
import type { EnrichedSink, PartitionSink } from "./sink.ts";
import { type ResolvedRiskOptions, resolveRiskOptions, type RiskOptions } from "./user_state.ts";

/** The topics the job enriches: every user topic (CDC is the dimension's source, not enriched). */
export const ENRICHED_TOPICS: readonly TopicKey[] = [
  "AUTH",
  "ASSESSMENT",
  "VIDEO",
  "COURSE",
  "PROFILE",
  "NOTIFICATION",
  "APP_EVENTS",
  "CLICKSTREAM",
];

/** When buffered events are enriched and committed. */
export interface CommitPolicy {
  /** Commit at this many buffered events; default 5000. */
  maxEvents?: number;
  /** Commit when the oldest buffered event waited this long; default 500 ms. */
  intervalMs?: number;
}

/** When enriched rows are written as a Parquet file. */
export interface EnrichedRollPolicy {
  /** Roll at this many rows; default 50000. */
  maxRows?: number;
  /** Roll when the oldest row waited this long; default 30000 ms. */
  maxAgeMs?: number;
}

/** Dependencies and options of {@link dataEnrichmentJob}; optional ones have defaults. */
export interface EnrichmentJobDeps {
  /** The user dimension (read through a cache; profile, device/country and risk written). */
  dims: UserDimStore;
  /** Where enriched messages go (kafka_sink.ts in production). */
  sink: EnrichedSink;
  /** Risk thresholds and score window. */
  risk?: RiskOptions;
  commit?: CommitPolicy;
  roll?: EnrichedRollPolicy;
  /** Dimension cache options (its clock defaults to `now`, its feed to `dimFeed`). */
  dimCache?: Omit<DimCacheOptions, "now" | "feed">;
  /** Invalidations from the CDC job in this process; default the process-wide feed. */
  dimFeed?: DimFeed;
  /** Dedup horizon by Kafka time (flag `duplicate`); default 3600000. */
  dedupHorizonMs?: number;
  /** `ALLOWED_LATENESS_MS`, for the checkpoint's watermark; default 600000. */
  allowedLatenessMs?: number;
  now?: () => number;
  fsync?: boolean;
  log?: Logger;
  metrics?: Registry;
}

/** The part of the configuration the job needs. */
export type EnrichmentJobConfig = Pick<ResolvedConfig, "outputsDir" | "topics">;

interface Shared {
  cfg: EnrichmentJobConfig;
  deps: EnrichmentJobDeps;
  risk: ResolvedRiskOptions;
  keepMs: number;
  cache: DimCache;
  enrichers: Map<number, PartitionEnricher>;
  now: () => number;
  maxEvents: number;
  intervalMs: number;
  maxRows: number;
  maxAgeMs: number;
  lateness: number;
  enriched?: Counter;
  unknown?: Counter;
  flagged?: Counter;
  commits?: Counter;
  removed?: Counter;
}

interface Pending {
  event: ValidEvent;
  meta: RecordMeta;
  /** Decided when the batch is taken (dedup is task-local and synchronous). */
  duplicate: boolean;
  /** The partition's max event time before the event. */
  maxBefore: number;
}

/** Outputs of a processed batch not yet delivered. */
interface Outbox {
  messages: EnrichedMessage[];
  /** Source offset after the last message. */
  sinkNext: number;
  rows: EnrichedRow[];
  profile: ProfileWrite[];
  auth: Map<string, AuthWrite>;
  risk: Map<string, RiskWrite>;
  lastOffset: number;
}

/** One prepared flush: a batch to enrich, then deliver, then maybe a Parquet roll. */
interface Work {
  batch: Pending[];
  box: Outbox | undefined;
  delivered: boolean;
  roll: boolean;
}

function stored(t: number): number {
  return Number.isFinite(t) ? t : -1;
}

/** A text value of a profile change (null when cleared). */
function profileText(v: unknown): string | null {
  return v === null || v === undefined ? null : typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * The enrichment task of one (topic, partition). Two-phase: {@link prepareFlush} takes the
 * buffered batch and decides everything the checkpoint depends on synchronously (dedup, the
 * state horizon, whether the Parquet buffer rolls); `write` enriches (after loading user rows),
 * delivers and rolls, in the order flushes were prepared, resuming where a failed attempt stopped.
 */
export class EnrichmentTask implements PartitionTask {
  readonly resumeFrom: Checkpoint | undefined;
  #s: Shared;
  #topic: TopicKey;
  #topicName: string;
  #partition: number;
  #sink: PartitionSink;
  #enricher: PartitionEnricher;
  #dedup: DedupFilter;
  #horizon: HorizonQueue;
  #maxEventTime: number;
  #buffer: { event: ValidEvent; meta: RecordMeta }[] = [];
  #bufferedAt = 0;
  #pending = 0;
  /** Rows for offsets from here on go to Parquet (the resume offset: earlier ones are filed). */
  #rowFrom: number;
  /** First source offset not yet committed to the sink. */
  #sinkNext: number;
  /** Rows enriched and not yet in a file (appended by `write`). */
  #rows: EnrichedRow[] = [];
  /** As planned at prepare time: first row not in a file after the prepared writes, its count. */
  #unfiled: { offset: number; maxBefore: number } | undefined;
  #unfiledCount = 0;
  #unfiledSince = 0;
  #queue: Work[] = [];
  #running: Promise<void> | undefined;
  #cleanedFrom: number | undefined;

  constructor(
    s: Shared,
    topic: TopicKey,
    partition: number,
    resume: Checkpoint | undefined,
    ctx: TaskContext | undefined,
    sink: PartitionSink,
  ) {
    this.#s = s;
    this.#topic = topic;
    this.#topicName = ctx?.topicName ?? s.cfg.topics[topic];
    this.#partition = partition;
    this.resumeFrom = resume;
    this.#sink = sink;
    let e = s.enrichers.get(partition);
    if (!e) s.enrichers.set(partition, e = new PartitionEnricher(s.risk));
    this.#enricher = e;
    this.#dedup = new DedupFilter({ horizonMs: s.deps.dedupHorizonMs });
    this.#horizon = new HorizonQueue(s.keepMs);
    this.#maxEventTime = resume && resume.replayMaxEventTime !== -1
      ? resume.replayMaxEventTime
      : -Infinity;
    this.#rowFrom = resume?.nextOffset ?? 0;
    // A stored checkpoint never runs ahead of the sink (it is stored after the commit); the
    // sink's own offset covers commits made after the last stored checkpoint.
    this.#sinkNext = Math.max(sink.committedNext ?? 0, resume?.nextOffset ?? 0);
  }

  /** First source offset not yet committed to the sink. */
  get sinkNext(): number {
    return this.#sinkNext;
  }

  /** Deletes this partition's Parquet files from `from` on (and temporary files). */
  async cleanup(from: number): Promise<void> {
    const { removed, straddling } = await removeFilesFrom(this.#root(), this.#partition, from);
    this.#cleanedFrom = from;
    if (removed > 0) {
      this.#s.removed?.inc({ topic: this.#topic }, removed);
      this.#s.deps.log?.info("removed enriched_events files written after the last checkpoint", {
        topic: this.#topic,
        partition: this.#partition,
        from,
        files: removed,
      });
    }
    for (const path of straddling) {
      this.#s.deps.log?.warn("enriched_events file straddles the resume offset; kept", { path });
    }
  }

  #root(): string {
    return `${this.#s.cfg.outputsDir}/${ENRICHED_DIR}/topic=${this.#topicName}`;
  }

  onEvent(event: ValidEvent, meta: RecordMeta, replaying: boolean): void {
    if (event.topic !== this.#topic || event.topic === "CDC") return;
    if (this.#buffer.length === 0) this.#bufferedAt = this.#s.now();
    this.#buffer.push({ event, meta });
    if (!replaying) this.#pending++;
  }

  pending(): number {
    return this.#pending;
  }

  #commitDue(): boolean {
    const n = this.#buffer.length;
    return n > 0 &&
      (n >= this.#s.maxEvents || this.#s.now() - this.#bufferedAt >= this.#s.intervalMs);
  }

  prepareFlush(position: number): PreparedFlush {
    const s = this.#s;
    const batch: Pending[] = [];
    if (this.#commitDue()) {
      for (const { event, meta } of this.#buffer) {
        const d = event.data as Record<string, unknown>;
        const maxBefore = this.#maxEventTime;
        const duplicate = this.#dedup.check(
          String(d.event_id),
          meta.kafkaTs,
          meta.offset,
          maxBefore,
        );
        this.#horizon.push(meta.offset, event.eventTime, maxBefore);
        if (event.eventTime > this.#maxEventTime) this.#maxEventTime = event.eventTime;
        batch.push({ event, meta, duplicate, maxBefore });
      }
      this.#buffer = [];
      this.#horizon.advance(this.#maxEventTime);
      const firstRow = batch.find((p) => p.meta.offset >= this.#rowFrom);
      if (firstRow) {
        if (!this.#unfiled) {
          this.#unfiled = { offset: firstRow.meta.offset, maxBefore: firstRow.maxBefore };
          this.#unfiledSince = s.now();
        }
        this.#unfiledCount += batch.filter((p) => p.meta.offset >= this.#rowFrom).length;
      }
    }
    this.#pending = this.#buffer.length;
    const roll = this.#unfiledCount > 0 &&
      (this.#unfiledCount >= s.maxRows || s.now() - this.#unfiledSince >= s.maxAgeMs);
    if (roll) {
      this.#unfiled = undefined;
      this.#unfiledCount = 0;
    }
    const work: Work | undefined = batch.length > 0 || roll
      ? { batch, box: undefined, delivered: false, roll }
      : undefined;
    if (work) this.#queue.push(work);
    const checkpoint = this.#checkpoint(position);
    return {
      checkpoint,
      rows: batch.length,
      write: () => (work ? this.#drainThrough(work) : this.#drainThrough(undefined)),
    };
  }

  async flush(position: number): Promise<Checkpoint> {
    const f = this.prepareFlush(position);
    await f.write();
    return f.checkpoint;
  }

  /** Runs queued work in order until `last` is done (all queued work when undefined). */
  async #drainThrough(last: Work | undefined): Promise<void> {
    while (this.#running) await this.#running.catch(() => {});
    const run = (async () => {
      while (this.#queue.length > 0) {
        const w = this.#queue[0];
        if (!w.box && w.batch.length > 0) w.box = await this.#process(w.batch);
        if (!w.delivered && w.box) await this.#deliver(w.box);
        w.delivered = true;
        if (w.roll && this.#rows.length > 0) await this.#roll();
        this.#queue.shift();
        if (w === last) return;
      }
    })();
    this.#running = run;
    try {
      await run;
    } finally {
      if (this.#running === run) this.#running = undefined;
    }
  }

  /** Enriches a batch (the shared user state advances) into an outbox. */
  async #process(batch: Pending[]): Promise<Outbox> {
    const s = this.#s;
    const outFrom = Math.min(this.#rowFrom, this.#sinkNext);
    const users = new Set<string>();
    for (const p of batch) {
      if (p.meta.offset >= outFrom) {
        users.add(String((p.event.data as Record<string, unknown>).user_id));
      }
    }
    await s.cache.load(users);
    const box: Outbox = {
      messages: [],
      sinkNext: -1,
      rows: [],
      profile: [],
      auth: new Map(),
      risk: new Map(),
      lastOffset: batch[batch.length - 1].meta.offset,
    };
    for (const { event, meta, duplicate } of batch) {
      const d = event.data as Record<string, unknown>;
      const userId = String(d.user_id);
      const t = event.eventTime;
      const write = !duplicate && meta.offset >= this.#rowFrom;
      if (event.topic === "PROFILE" && !duplicate) {
        for (const [field, value] of Object.entries(event.data.changes)) {
          const text = profileText(value);
          s.cache.applyProfile(userId, field, text, t * 1000);
          if (write) box.profile.push({ userId, field, value: text, writeTs: t * 1000 });
        }
      }
      const out = meta.offset >= outFrom;
      const view = out ? s.cache.view(userId) : undefined;
      const figures = this.#enricher.apply(event, duplicate, view);
      if (write) {
        if (event.topic === "AUTH" && (d.device !== undefined || d.country !== undefined)) {
          const prev = box.auth.get(userId);
          if (!prev || prev.authAt <= t) {
            box.auth.set(userId, {
              userId,
              device: typeof d.device === "string" ? d.device : null,
              country: typeof d.country === "string" ? d.country : null,
              authAt: t,
              writeTs: t * 1000,
            });
          }
        }
        const prev = box.risk.get(userId);
        if (!prev || prev.at <= t) {
          box.risk.set(userId, {
            userId,
            riskFlags: figures.riskFlags,
            engagementScore: figures.engagementScore,
            at: t,
            writeTs: t * 1000,
          });
        }
      }
      if (!out) continue;
      const enriched = enrich(event, {
        meta: {
          topic: this.#topicName,
          partition: this.#partition,
          offset: meta.offset,
          kafkaTs: meta.kafkaTs,
          raw: meta.raw ?? JSON.stringify(d),
        },
        view: view!,
        figures,
        duplicate,
      });
      if (meta.offset >= this.#sinkNext) {
        box.messages.push(enrichedMessage(enriched));
        box.sinkNext = meta.offset + 1;
      }
      if (meta.offset >= this.#rowFrom) box.rows.push(enrichedRow(enriched));
    }
    return box;
  }

  /**
   * Delivers an outbox: the dimension writes first (so a visible enriched event's user state is
   * stored too), then one sink commit, then the rows join the Parquet buffer. Each step is
   * idempotent or atomic, so a failed delivery is retried as a whole.
   */
  async #deliver(box: Outbox): Promise<void> {
    const s = this.#s;
    await Promise.all([
      box.profile.length > 0 ? s.deps.dims.writeProfile(box.profile) : undefined,
      box.auth.size > 0 ? s.deps.dims.writeAuth([...box.auth.values()]) : undefined,
      box.risk.size > 0 ? s.deps.dims.writeRisk([...box.risk.values()]) : undefined,
    ]);
    if (box.messages.length > 0 && box.sinkNext > this.#sinkNext) {
      await this.#sink.commit(box.messages, box.sinkNext);
      this.#sinkNext = box.sinkNext;
      s.commits?.inc({ topic: this.#topic });
      s.enriched?.inc({ topic: this.#topic }, box.messages.length);
      for (const m of box.messages) {
        const v = JSON.parse(m.value) as { flags: string[]; risk_flags: string[] };
        if (v.flags.includes(FLAGS.unknownUser)) s.unknown?.inc({ topic: this.#topic });
        for (const f of v.risk_flags) s.flagged?.inc({ flag: f });
      }
    }
    for (const r of box.rows) this.#rows.push(r);
    box.rows = [];
  }

  async #roll(): Promise<void> {
    const rows = this.#rows;
    const first = rows[0].offset;
    if (this.#cleanedFrom === undefined || first < this.#cleanedFrom) await this.cleanup(first);
    await writeOffsetFiles(this.#root(), rows, {
      partition: this.#partition,
      columns: ENRICHED_COLUMNS,
      fsync: this.#s.deps.fsync,
    });
    this.#rows = [];
  }

  /** The checkpoint that holds once every prepared write succeeded. */
  #checkpoint(position: number): Checkpoint {
    const resume = this.resumeFrom;
    if (resume && position < resume.nextOffset) return resume;
    // The first offset whose outputs are not all written: rows not in a file, events not taken.
    let head = this.#unfiled;
    const b = this.#buffer[0];
    if (b && (!head || b.meta.offset < head.offset)) {
      head = { offset: b.meta.offset, maxBefore: this.#maxEventTime };
    }
    const nextOffset = head ? head.offset : position;
    const rp = earliest(this.#horizon.replayPoint(), this.#dedup.replayPoint());
    const replay = rp && rp.offset < nextOffset ? rp : undefined;
    return {
      nextOffset,
      replayOffset: replay ? replay.offset : nextOffset,
      replayMaxEventTime: stored(
        replay ? replay.maxEventTime : head ? head.maxBefore : this.#maxEventTime,
      ),
      watermark: stored(this.#maxEventTime - this.#s.lateness),
    };
  }

  async close(): Promise<void> {
    this.#buffer = [];
    this.#rows = [];
    this.#queue = [];
    await this.#sink.close();
  }
}

/** The output topic and risk thresholds of the job (see {@link enrichmentSettings}). */
export interface EnrichmentSettings {
  outputTopic: string;
  risk: RiskOptions;
}

/** The part of the configuration {@link enrichmentSettings} reads. */
export type EnrichmentSettingsConfig = Pick<
  ResolvedConfig,
  | "enrichedTopic"
  | "enrichMaxEventsPerMinute"
  | "enrichFailedLogins"
  | "enrichFailedWindowMs"
  | "enrichTravelWindowMs"
>;

/**
 * The job's settings from the resolved configuration (`TOPIC_ENRICHED` and `ENRICH_*`, validated
 * with their defaults by `resolveConfig` in shared/config.ts).
 */
export function enrichmentSettings(cfg: EnrichmentSettingsConfig): EnrichmentSettings {
  return {
    outputTopic: cfg.enrichedTopic,
    risk: {
      maxEventsPerMinute: cfg.enrichMaxEventsPerMinute,
      failedLogins: cfg.enrichFailedLogins,
      failedWindowMs: cfg.enrichFailedWindowMs,
      travelWindowMs: cfg.enrichTravelWindowMs,
    },
  };
}

/**
 * The `data_enrichment` job definition.
 * @param cfg the outputs directory and topic names
 * @param deps dimension store, sink, thresholds, policies
 */
export function dataEnrichmentJob(
  cfg: EnrichmentJobConfig,
  deps: EnrichmentJobDeps,
): JobDefinition {
  const risk = resolveRiskOptions(deps.risk);
  const now = deps.now ?? Date.now;
  const s: Shared = {
    cfg,
    deps,
    risk,
    keepMs: Math.max(risk.engagementWindowMs, risk.failedWindowMs, 2 * risk.travelWindowMs),
    cache: new DimCache(deps.dims, {
      ...deps.dimCache,
      now,
      feed: deps.dimFeed ?? processDimFeed,
    }),
    enrichers: new Map(),
    now,
    maxEvents: deps.commit?.maxEvents ?? 5000,
    intervalMs: deps.commit?.intervalMs ?? 500,
    maxRows: deps.roll?.maxRows ?? 50_000,
    maxAgeMs: deps.roll?.maxAgeMs ?? 30_000,
    lateness: deps.allowedLatenessMs ?? 600_000,
  };
  for (const [k, v] of Object.entries({ ...deps.commit, ...deps.roll })) {
    if (!(typeof v === "number" && v >= 0)) {
      throw new RangeError(`Cannot create data_enrichment: '${k}' must be ≥ 0, got ${v}`);
    }
  }
  const m = deps.metrics;
  if (m) {
    s.enriched = m.counter("enriched_events_total", "Events enriched and committed", ["topic"]);
    s.unknown = m.counter("enrichment_unknown_user_total", "Enriched events of unknown users", [
      "topic",
    ]);
    s.flagged = m.counter("enrichment_risk_flags_total", "Risk flags set on enriched events", [
      "flag",
    ]);
    s.commits = m.counter("enrichment_commits_total", "Sink commits (Kafka transactions)", [
      "topic",
    ]);
    s.removed = m.counter(
      "enriched_files_removed_total",
      "enriched_events Parquet files removed on takeover",
      ["topic"],
    );
  }
  return {
    name: "data_enrichment",
    topics: ENRICHED_TOPICS,
    async createTask(topic, partition, resume, context) {
      if (!ENRICHED_TOPICS.includes(topic)) {
        throw new RangeError(`Job data_enrichment does not read topic ${topic}`);
      }
      const topicName = context?.topicName ?? cfg.topics[topic];
      const sink = await deps.sink.open(topicName, partition);
      const task = new EnrichmentTask(s, topic, partition, resume, context, sink);
      if (resume) await task.cleanup(resume.nextOffset);
      return task;
    },
  };
}
