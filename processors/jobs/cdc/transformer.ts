/**
 * @module
 * The pure state machine of one partition of the CDC topic (no Kafka or Cassandra import):
 * classified changes in, three kinds of output out, each drained by the job at flush:
 *
 * - per-table operation counts per minute of event time (`ts_ms`), absolute for this partition,
 *   closed by the watermark like every realtime view; late changes are not counted (reported);
 * - the newest state of each row of the dimension table (default `users`) as an upsert with a
 *   Cassandra write timestamp derived from the source position, so an older change never
 *   overwrites a newer one, here (per-key order) nor in Cassandra (last write wins);
 * - table truncations.
 *
 * A repeated change (same table, key, operation and source position within the dedup horizon) is
 * neither counted nor applied again. Tombstones change nothing: the delete before them did.
 */
import { DedupFilter } from "../../operators/dedup.ts";
import { earliest, type ReplayPoint } from "../../operators/replay_point.ts";
import { TumblingWindows } from "../../operators/tumbling.ts";
import type { Change, OpCode } from "./change.ts";
import { comparePositions, positionText, writeTimestampUs } from "./position.ts";
import { RecentKeys } from "./recent_keys.ts";

/** Operation counts of one table in one minute. */
export interface OpCounts {
  inserts: number;
  updates: number;
  deletes: number;
  snapshots: number;
  truncates: number;
}

const COUNTER: Record<OpCode, keyof OpCounts> = {
  c: "inserts",
  u: "updates",
  d: "deletes",
  r: "snapshots",
  t: "truncates",
};

/** A `cdc_operations_rt` row: this partition's absolute counts of (table, minute). */
export interface SummaryWrite {
  table: string;
  /** Minute start, epoch ms. */
  minute: number;
  counts: OpCounts;
  /** 1 + offset of the newest change counted: the row's write timestamp. */
  version: number;
}

/** A row state of the dimension table. */
export interface DimWrite {
  /** The row's entity id (the key's `id`). */
  entityId: string;
  /** `upsert` replaces the row's fields; `delete` only marks it deleted (fields are kept). */
  action: "upsert" | "delete";
  /** The after state as text values (null values left out); null for a delete. */
  fields: Record<string, string> | null;
  op: OpCode;
  /** {@link positionText} of the change. */
  position: string;
  sourceTsMs: number;
  /** Cassandra write timestamp, µs. */
  writeTs: number;
}

/** A truncate of a table. */
export interface TruncationWrite {
  table: string;
  position: string;
  sourceTsMs: number;
  /** Cassandra write timestamp, µs: rows of the table written before it count as deleted. */
  writeTs: number;
}

/** How one change was treated. */
export interface Applied {
  /** A repeat of a change already applied within the horizon: not counted, not applied. */
  duplicate: boolean;
  /** Older than the newest change of the same key already applied: counted, not applied. */
  stale: boolean;
  /** Its minute had closed (watermark): not counted in the realtime summary. */
  late: boolean;
  /** Write timestamp (µs) of the row state it produced, null when it produced none. */
  writeTs: number | null;
}

/** Options of {@link CdcTransformer}. */
export interface CdcTransformerOptions {
  /** Dedup and key-order horizon (Kafka time); default 3600000 (1 h). */
  horizonMs?: number;
  /** The table kept as a dimension; default `"users"`. */
  dimensionTable?: string;
}

/** Kafka coordinates and event time of a change. */
export interface ChangeMeta {
  offset: number;
  kafkaTs: number;
  /** Event time: the payload's `ts_ms` (a tombstone: its Kafka timestamp). */
  eventTime: number;
}

/**
 * The partition's watermark decision about the change (the runtime's event gate,
 * processors/operators/event_gate.ts): late, max event time before it, watermark after it.
 */
export interface WatermarkContext {
  late: boolean;
  maxEventTimeBefore: number;
  watermark: number;
}

function zero(): OpCounts {
  return { inserts: 0, updates: 0, deletes: 0, snapshots: 0, truncates: 0 };
}

/** Text values of a row state: strings as they are, other values as JSON; nulls left out. */
export function fieldTexts(row: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

/** One CDC partition's transformation state. */
export class CdcTransformer {
  readonly dimensionTable: string;
  #dedup: DedupFilter;
  #keys: RecentKeys;
  #windows = new TumblingWindows<OpCounts>({ init: zero });
  #dims = new Map<string, DimWrite>();
  #truncations = new Map<string, TruncationWrite>();
  #late = 0;

  constructor(options: CdcTransformerOptions) {
    this.dimensionTable = options.dimensionTable ?? "users";
    this.#dedup = new DedupFilter({ horizonMs: options.horizonMs });
    this.#keys = new RecentKeys({ horizonMs: options.horizonMs });
  }

  /** Late changes seen (not counted in summaries) since creation. */
  get lateChanges(): number {
    return this.#late;
  }

  /**
   * Applies one change.
   * @param replaying true while rebuilding state: counts and key order are rebuilt, no output
   *   is queued (it was written before)
   * @param wm the partition's watermark decision about this change
   */
  apply(change: Change, meta: ChangeMeta, wm: WatermarkContext, replaying: boolean): Applied {
    const maxBefore = wm.maxEventTimeBefore;
    const late = wm.late;
    const applied: Applied = { duplicate: false, stale: false, late, writeTs: null };
    if (change.kind === "TOMBSTONE" || change.op === null || change.table === null) {
      this.#windows.closeThrough(wm.watermark);
      return applied;
    }
    const table = change.table;
    const pos = change.position;
    const identity = `${table}\u0000${change.keyText ?? ""}\u0000${change.op}\u0000${
      positionText(pos)
    }\u0000${pos.sourceTsMs}\u0000${pos.tsMs}`;
    if (this.#dedup.check(identity, meta.kafkaTs, meta.offset, maxBefore)) {
      applied.duplicate = true;
      this.#windows.closeThrough(wm.watermark);
      return applied;
    }
    if (change.op === "t") {
      applied.writeTs = writeTimestampUs(pos);
      this.#keys.clear((k) => k.startsWith(`${table}\u0000`));
      if (!replaying) {
        const prev = this.#truncations.get(table);
        if (!prev || prev.writeTs < applied.writeTs) {
          this.#truncations.set(table, {
            table,
            position: positionText(pos),
            sourceTsMs: pos.sourceTsMs,
            writeTs: applied.writeTs,
          });
        }
      }
    } else if (change.keyText !== null) {
      const scoped = `${table}\u0000${change.keyText}`;
      const prev = this.#keys.get(scoped, meta.kafkaTs);
      if (prev && comparePositions(pos, prev.position) <= 0) {
        applied.stale = true;
      } else {
        const writeTs = Math.max(writeTimestampUs(pos), prev ? prev.writeTs + 1 : -Infinity);
        applied.writeTs = writeTs;
        this.#keys.set(scoped, {
          position: pos,
          writeTs,
          offset: meta.offset,
          kafkaTs: meta.kafkaTs,
          maxEventTimeBefore: maxBefore,
        });
        if (!replaying && table === this.dimensionTable && change.entityId !== null) {
          this.#queueDim(change, writeTs);
        }
      }
    }
    if (late) {
      this.#late++;
    } else {
      const cell = this.#windows.update(table, meta.eventTime, meta.offset, maxBefore, replaying);
      cell.state[COUNTER[change.op]]++;
    }
    this.#windows.closeThrough(wm.watermark);
    return applied;
  }

  #queueDim(change: Change, writeTs: number): void {
    const id = change.entityId!;
    const prev = this.#dims.get(id);
    if (prev && prev.writeTs >= writeTs) return;
    const del = change.op === "d";
    this.#dims.set(id, {
      entityId: id,
      action: del ? "delete" : "upsert",
      fields: del || !change.after ? null : fieldTexts(change.after),
      op: change.op!,
      position: positionText(change.position),
      sourceTsMs: change.position.sourceTsMs,
      writeTs,
    });
  }

  /** Summary rows changed since the last call. */
  drainSummaries(): SummaryWrite[] {
    return this.#windows.drainDirty().map((c) => ({
      table: c.key,
      minute: c.start,
      counts: { ...c.state },
      version: c.version,
    }));
  }

  /** Newest dimension row state per entity since the last call. */
  drainDimension(): DimWrite[] {
    const out = [...this.#dims.values()];
    this.#dims.clear();
    return out;
  }

  /** Truncations since the last call (newest per table). */
  drainTruncations(): TruncationWrite[] {
    const out = [...this.#truncations.values()];
    this.#truncations.clear();
    return out;
  }

  /** Changes queued for writing and not yet drained. */
  get queued(): number {
    return this.#dims.size + this.#truncations.size;
  }

  /** Where a replay must start to rebuild open minutes, dedup and key order; none if no state. */
  replayPoint(): ReplayPoint | undefined {
    return earliest(
      earliest(this.#windows.replayPoint(), this.#dedup.replayPoint()),
      this.#keys.replayPoint(),
    );
  }
}
