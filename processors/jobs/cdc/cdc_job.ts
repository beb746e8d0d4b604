/**
 * @module
 * The `cdc_transformation` stream job over `topic_cdc_changes`. Per partition a {@link CdcTask}
 * classifies each record (change.ts), feeds the pure {@link CdcTransformer}, and at flush writes:
 *
 * 1. `cdc_operations_rt` rows (absolute per partition, `USING TTL … AND TIMESTAMP 1 + offset`)
 *    and this job's `late_events` rows, through the shared {@link ViewStore};
 * 2. `users_dim` row states and `cdc_truncations` (µs source-time timestamps, user_dim.ts);
 * 3. when a roll is due, the buffered `cdc_transformed` rows as Parquet files named by partition
 *    and offset range (temporary name, then rename).
 *
 * The checkpoint's `nextOffset` is the first offset not yet in a Parquet file (Cassandra writes
 * are ahead of it and idempotent); `replayOffset` also covers the open minutes, the repeat and
 * key-order memory (1 h). Late counts continue from the stored `late_events` rows. A new owner
 * deletes the partition's
 * Parquet files from its `nextOffset` on, then the runtime replays.
 */
import type { ResolvedConfig, TopicKey } from "../../../shared/config.ts";
import type { CdcPayload, Rejection, ValidEvent } from "../../../shared/events.ts";
import type { Logger } from "../../../shared/log.ts";
import type { Counter, Registry } from "../../../shared/metrics.ts";
import { LateCounter, type LateHour } from "../../operators/late_counter.ts";
import { earliest } from "../../operators/replay_point.ts";
import type {
  Checkpoint,
  EventContext,
  JobDefinition,
  PartitionTask,
  PreparedFlush,
  RecordMeta,
  TaskContext,
} from "../../runtime/task.ts";
import { LATE_EVENTS, type TableSpec } from "../../store/tables.ts";
import type { RowWrite, ViewStore } from "../../store/view_store.ts";
import { toChange } from "./change.ts";
import { type DimFeed, processDimFeed } from "./dim_feed.ts";
import { removeFilesFrom, writeOffsetFiles } from "./offset_files.ts";
import { OrderedWrites } from "./ordered_writes.ts";
import { CdcTransformer } from "./transformer.ts";
import {
  CDC_TRANSFORMED_DIR,
  rejectedRow,
  TRANSFORMED_COLUMNS,
  type TransformedRow,
  transformedRow,
} from "./transformed_rows.ts";
import type { UserDimStore } from "./user_dim.ts";

const JOB = "cdc_transformation";

/** `cdc_operations_rt ((table_name), minute, kpart)`: operations per table and minute. */
export const CDC_OPERATIONS: TableSpec = {
  name: "cdc_operations_rt",
  partitionKey: [{ name: "table_name", type: "text" }],
  clustering: [{ name: "minute", type: "timestamp" }, { name: "kpart", type: "int" }],
  values: ["inserts", "updates", "deletes", "snapshots", "truncates"].map((name) => ({
    name,
    type: "bigint" as const,
  })),
};

/** When buffered `cdc_transformed` rows are written as a file. */
export interface CdcRollPolicy {
  /** Roll at this many buffered rows; default 20000. */
  maxRows?: number;
  /** Roll when the oldest buffered row was buffered this long ago; default 10000 ms. */
  maxAgeMs?: number;
}

/** Dependencies and options of {@link cdcTransformationJob}; each optional one has a default. */
export interface CdcJobDeps {
  /** Where summary and late rows go (Cassandra in production). */
  viewStore: ViewStore;
  /** Where users' row states go. */
  dims: UserDimStore;
  /** Parquet roll thresholds. */
  roll?: CdcRollPolicy;
  /** The table kept as the user dimension; default `"users"`. */
  dimensionTable?: string;
  /** Repeat and key-order memory, Kafka time; default 3600000 (the realtime dedup horizon). */
  horizonMs?: number;
  /** Told the ids of `users_dim` rows written; default the process-wide feed. */
  dimFeed?: DimFeed;
  /**
   * Also receives records the job rejects (e.g. a row change without a key). Every rejected
   * record is reported to the runtime ({@link TaskContext.reject}: sent to `topic_cdc_changes.dlq`),
   * counted (`cdc_rejected_total`), logged, and kept in `cdc_transformed` as a `REJECTED` row with
   * its reason and raw value.
   */
  onReject?: (meta: RecordMeta, rejection: Rejection) => void;
  /** Clock of the age rule; default `Date.now`. */
  now?: () => number;
  /** fsync Parquet files before their rename; default true. */
  fsync?: boolean;
  log?: Logger;
  metrics?: Registry;
}

/** The part of the configuration the job needs. */
export type CdcJobConfig = Pick<ResolvedConfig, "outputsDir">;

interface Shared {
  root: string;
  deps: CdcJobDeps;
  maxRows: number;
  maxAgeMs: number;
  now: () => number;
  feed: DimFeed;
  changes?: Counter;
  rejected?: Counter;
  stale?: Counter;
  repeated?: Counter;
  removed?: Counter;
}

function stored(t: number): number {
  return Number.isFinite(t) ? t : -1;
}

interface Buffered {
  row: TransformedRow;
  maxEventTimeBefore: number;
}

/** The task of one CDC partition. */
export class CdcTask implements PartitionTask {
  readonly resumeFrom: Checkpoint | undefined;
  #s: Shared;
  #partition: number;
  #ctx: TaskContext;
  #t: CdcTransformer;
  #late: LateCounter;
  #rows: Buffered[] = [];
  #since = 0;
  #pending = 0;
  /** First offset not yet in a Parquet file. */
  #parquetNext: number;
  #cleanedFrom: number | undefined;
  #writes = new OrderedWrites();

  /** @param late this job's stored `late_events` rows of the partition (counts continue) */
  constructor(
    s: Shared,
    partition: number,
    resume: Checkpoint | undefined,
    ctx: TaskContext,
    late: Iterable<LateHour> = [],
  ) {
    this.#s = s;
    this.#late = new LateCounter(late);
    this.#partition = partition;
    this.#ctx = ctx;
    this.resumeFrom = resume;
    this.#parquetNext = resume?.nextOffset ?? 0;
    this.#t = new CdcTransformer({
      horizonMs: s.deps.horizonMs,
      dimensionTable: s.deps.dimensionTable,
    });
  }

  /** Deletes this partition's files written at or after `from` (and temporary files). */
  async cleanup(from: number): Promise<void> {
    const { removed, straddling } = await removeFilesFrom(this.#s.root, this.#partition, from);
    this.#cleanedFrom = from;
    if (removed > 0) {
      this.#s.removed?.inc({}, removed);
      this.#s.deps.log?.info("removed cdc_transformed files written after the last checkpoint", {
        partition: this.#partition,
        from,
        files: removed,
      });
    }
    for (const path of straddling) {
      this.#s.deps.log?.warn("cdc_transformed file straddles the resume offset; kept", {
        path,
        from,
      });
    }
  }

  onEvent(event: ValidEvent, meta: RecordMeta, replaying: boolean, ctx: EventContext): void {
    if (event.topic !== "CDC") return;
    if (!replaying) this.#pending++;
    const rowMeta = {
      partition: this.#partition,
      offset: meta.offset,
      kafkaTs: meta.kafkaTs,
      eventTime: event.eventTime,
    };
    const keep = meta.offset >= this.#parquetNext;
    const c = toChange(event.data as CdcPayload | null, meta);
    if (c.err) {
      if (!replaying) {
        this.#s.rejected?.inc({ reason: c.err.reason });
        this.#s.deps.log?.warn("change rejected", {
          partition: meta.partition,
          offset: meta.offset,
          reason: c.err.reason,
          field: c.err.field,
          detail: c.err.detail,
        });
        this.#ctx.reject?.(meta, c.err);
        this.#s.deps.onReject?.(meta, c.err);
      }
      if (keep) this.#buffer(rejectedRow(c.err, meta.raw, meta.key, rowMeta), ctx);
      return;
    }
    const wm = ctx ?? { late: false, maxEventTimeBefore: -Infinity, watermark: -Infinity };
    const applied = ctx?.duplicate
      ? { duplicate: true, stale: false, late: false, writeTs: null }
      : this.#t.apply(c.ok, rowMeta, wm, replaying);
    if (applied.late) this.#late.add(event.eventTime, meta.offset, replaying);
    if (!replaying && c.ok.table !== null) {
      this.#s.changes?.inc({ table: c.ok.table, kind: c.ok.kind });
      if (applied.stale) this.#s.stale?.inc({ table: c.ok.table });
      if (applied.duplicate) this.#s.repeated?.inc({ table: c.ok.table });
    }
    if (keep) this.#buffer(transformedRow(c.ok, applied, rowMeta), ctx);
  }

  #buffer(row: TransformedRow, ctx: EventContext | undefined): void {
    if (this.#rows.length === 0) this.#since = this.#s.now();
    this.#rows.push({ row, maxEventTimeBefore: ctx?.maxEventTimeBefore ?? -Infinity });
  }

  pending(): number {
    return this.#pending;
  }

  /** Buffered `cdc_transformed` rows not yet in a file. */
  buffered(): number {
    return this.#rows.length;
  }

  #rollDue(): boolean {
    const n = this.#rows.length;
    return n > 0 && (n >= this.#s.maxRows || this.#s.now() - this.#since >= this.#s.maxAgeMs);
  }

  prepareFlush(position: number): PreparedFlush {
    const resume = this.resumeFrom;
    if (resume && position < resume.nextOffset) {
      return { checkpoint: resume, rows: 0, write: this.#writes.add(() => Promise.resolve()) };
    }
    this.#pending = 0;
    const viewRows: RowWrite[] = [];
    for (const s of this.#t.drainSummaries()) {
      const n = s.counts;
      viewRows.push({
        table: CDC_OPERATIONS,
        op: "upsert",
        values: [
          s.table,
          s.minute,
          this.#partition,
          n.inserts,
          n.updates,
          n.deletes,
          n.snapshots,
          n.truncates,
        ],
        version: s.version,
      });
    }
    for (const h of this.#late.drainDirty()) {
      viewRows.push({
        table: LATE_EVENTS,
        op: "upsert",
        values: [JOB, h.hour, this.#ctx.topicName, this.#partition, h.late],
        version: h.version,
      });
    }
    const dims = this.#t.drainDimension();
    const truncations = this.#t.drainTruncations();
    const roll = this.#rollDue() ? this.#rows : [];
    if (roll.length > 0) {
      this.#rows = [];
      this.#parquetNext = roll[roll.length - 1].row.offset + 1;
    }
    // nextOffset: the first offset not in a file; everything below `position` reached Cassandra.
    const head = this.#rows[0];
    const nextOffset = head ? head.row.offset : Math.max(position, this.#parquetNext);
    const gate = this.#ctx.gate;
    const rp = earliest(this.#t.replayPoint(), gate.replayPoint());
    const replay = rp && rp.offset < nextOffset ? rp : undefined;
    const checkpoint: Checkpoint = {
      nextOffset,
      replayOffset: replay ? replay.offset : nextOffset,
      replayMaxEventTime: stored(
        replay ? replay.maxEventTime : head ? head.maxEventTimeBefore : gate.maxEventTime,
      ),
      watermark: stored(gate.watermark),
    };
    const s = this.#s;
    const write = async () => {
      await Promise.all([
        viewRows.length > 0 ? s.deps.viewStore.write(viewRows) : undefined,
        dims.length > 0 ? s.deps.dims.writeCdc(dims) : undefined,
        truncations.length > 0 ? s.deps.dims.writeTruncations(truncations) : undefined,
      ]);
      if (dims.length > 0 || truncations.length > 0) {
        s.feed.publish(truncations.length > 0 ? ["*"] : dims.map((d) => d.entityId));
      }
      if (roll.length > 0) {
        const first = roll[0].row.offset;
        if (this.#cleanedFrom === undefined || first < this.#cleanedFrom) await this.cleanup(first);
        await writeOffsetFiles(s.root, roll.map((b) => b.row), {
          partition: this.#partition,
          columns: TRANSFORMED_COLUMNS,
          fsync: s.deps.fsync,
        });
      }
    };
    return {
      checkpoint,
      rows: viewRows.length + dims.length + truncations.length + roll.length,
      write: this.#writes.add(write),
    };
  }

  async flush(position: number): Promise<Checkpoint> {
    const f = this.prepareFlush(position);
    await f.write();
    return f.checkpoint;
  }

  close(): Promise<void> {
    this.#rows = [];
    return Promise.resolve();
  }
}

/**
 * The `cdc_transformation` job definition.
 * @param cfg the outputs directory
 * @param deps stores, roll policy, clock, logger, metrics
 */
export function cdcTransformationJob(cfg: CdcJobConfig, deps: CdcJobDeps): JobDefinition {
  const s: Shared = {
    root: `${cfg.outputsDir}/${CDC_TRANSFORMED_DIR}`,
    deps,
    maxRows: deps.roll?.maxRows ?? 20_000,
    maxAgeMs: deps.roll?.maxAgeMs ?? 10_000,
    now: deps.now ?? Date.now,
    feed: deps.dimFeed ?? processDimFeed,
  };
  if (!(s.maxRows >= 1) || !(s.maxAgeMs >= 0)) {
    throw new RangeError(
      `Cannot create cdc_transformation: roll thresholds must be positive, got ${
        JSON.stringify(deps.roll)
      }`,
    );
  }
  const m = deps.metrics;
  if (m) {
    s.changes = m.counter("cdc_changes_total", "CDC records applied, by table and kind", [
      "table",
      "kind",
    ]);
    s.rejected = m.counter("cdc_rejected_total", "CDC records rejected by the job", ["reason"]);
    s.stale = m.counter("cdc_stale_changes_total", "Changes older than the key's newest", [
      "table",
    ]);
    s.repeated = m.counter("cdc_repeated_changes_total", "Repeated changes not applied again", [
      "table",
    ]);
    s.removed = m.counter(
      "cdc_transformed_files_removed_total",
      "cdc_transformed files removed on takeover (written after the last checkpoint)",
    );
  }
  const topics: readonly TopicKey[] = ["CDC"];
  return {
    name: "cdc_transformation",
    topics,
    gated: true,
    async createTask(topic, partition, resume, context) {
      if (topic !== "CDC") {
        throw new RangeError(`Job cdc_transformation reads only CDC, not ${topic}`);
      }
      if (context === undefined) {
        throw new TypeError("Job cdc_transformation needs a TaskContext (gate and topic name)");
      }
      const late = await deps.viewStore.lateCounts(JOB, context.topicName, partition);
      const task = new CdcTask(s, partition, resume, context, late);
      if (resume) await task.cleanup(resume.nextOffset);
      return task;
    },
  };
}
