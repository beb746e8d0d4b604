/**
 * @module
 * The partition task shared by the realtime view jobs: a list of view parts (windowed aggregates
 * that turn events into row writes) plus the job's late counts (continued from the stored rows),
 * checkpointed at the earliest replay point among the parts and the partition's gate.
 */
import type { StreamJob, TopicKey } from "../../shared/config.ts";
import type { ValidEvent } from "../../shared/events.ts";
import { LateCounter, type LateHour } from "../operators/late_counter.ts";
import { earliest, type ReplayPoint } from "../operators/replay_point.ts";
import type {
  Checkpoint,
  EventContext,
  PartitionTask,
  PreparedFlush,
  RecordMeta,
  TaskContext,
} from "../runtime/task.ts";
import { LATE_EVENTS } from "../store/tables.ts";
import type { RowWrite, ViewStore } from "../store/view_store.ts";

/** Where a part's rows belong: the partition and the actual topic name. */
export interface PartEnv {
  kpart: number;
  topicName: string;
}

/** One windowed aggregate of a view job. */
export interface ViewPart {
  /** Applies an on-time, non-duplicate event. */
  apply(event: ValidEvent, meta: RecordMeta, ctx: EventContext, replaying: boolean): void;
  /** The watermark moved (by the event at `offset`): close what it closes. */
  advance(watermark: number, offset: number, replaying: boolean): void;
  /**
   * Appends the row writes of everything changed since the last call. With `maxEventTime` the
   * part may defer rows that are not needed yet (future sliding windows) and report the oldest
   * deferred change in {@link deferredFrom}; without it, it writes everything.
   */
  drain(out: RowWrite[], maxEventTime?: number): void;
  /** The oldest change the last drain deferred (undefined: none); the checkpoint stops there. */
  deferredFrom?(): number | undefined;
  /** Where a replay must start to rebuild the part's open state. */
  replayPoint(): ReplayPoint | undefined;
}

/** Options of {@link ViewTask}. */
export interface ViewTaskOptions {
  job: StreamJob;
  topic: TopicKey;
  partition: number;
  resume: Checkpoint | undefined;
  context: TaskContext;
  store: ViewStore;
  parts: ViewPart[];
  /** The stored late_events rows of this view, topic and partition. */
  late: LateHour[];
}

/** Checkpoints store −1 for "no event time". */
export function storedTime(t: number): number {
  return Number.isFinite(t) ? t : -1;
}

/** The inverse of {@link storedTime}. */
export function loadedTime(t: number): number {
  return t === -1 ? -Infinity : t;
}

/** A realtime view job's task for one (topic, partition). */
export class ViewTask implements PartitionTask {
  readonly resumeFrom: Checkpoint | undefined;
  #o: ViewTaskOptions;
  #late: LateCounter;
  #pending = 0;
  #lastWatermark = -Infinity;

  constructor(options: ViewTaskOptions) {
    this.#o = options;
    this.resumeFrom = options.resume;
    this.#late = new LateCounter(options.late);
  }

  onEvent(event: ValidEvent, meta: RecordMeta, replaying: boolean, ctx?: EventContext): void {
    if (ctx === undefined) {
      throw new TypeError(`View job ${this.#o.job} needs the gate's EventContext for every event`);
    }
    if (ctx.duplicate) return;
    if (!replaying) this.#pending++;
    if (ctx.late) {
      this.#late.add(event.eventTime, meta.offset, replaying);
      return;
    }
    const parts = this.#o.parts;
    for (let i = 0; i < parts.length; i++) parts[i].apply(event, meta, ctx, replaying);
    if (ctx.watermark !== this.#lastWatermark) {
      this.#lastWatermark = ctx.watermark;
      for (let i = 0; i < parts.length; i++) {
        parts[i].advance(ctx.watermark, meta.offset, replaying);
      }
    }
  }

  pending(): number {
    return this.#pending;
  }

  prepareFlush(position: number): PreparedFlush {
    const resume = this.resumeFrom;
    if (resume && position < resume.nextOffset) {
      // Still rebuilding what the previous owner wrote: nothing to write, nothing new to store.
      return { checkpoint: resume, rows: 0, write: () => Promise.resolve() };
    }
    const gate = this.#o.context.gate;
    // While events keep coming, parts may defer rows that are not needed yet; a flush after a
    // quiet interval writes everything.
    const defer = this.#pending > 0 ? gate.maxEventTime : undefined;
    const rows: RowWrite[] = [];
    let next = position;
    for (const p of this.#o.parts) {
      p.drain(rows, defer);
      const d = p.deferredFrom?.();
      if (d !== undefined && d < next) next = d;
    }
    const { partition: kpart, job } = this.#o;
    const topicName = this.#o.context.topicName;
    for (const h of this.#late.drainDirty()) {
      rows.push({
        table: LATE_EVENTS,
        op: "upsert",
        values: [job, h.hour, topicName, kpart, h.late],
        version: h.version,
      });
    }
    let rp = gate.replayPoint();
    for (const p of this.#o.parts) rp = earliest(rp, p.replayPoint());
    const checkpoint: Checkpoint = {
      nextOffset: next,
      replayOffset: rp ? rp.offset : position,
      replayMaxEventTime: storedTime(rp ? rp.maxEventTime : gate.maxEventTime),
      watermark: storedTime(gate.watermark),
    };
    this.#pending = 0;
    const store = this.#o.store;
    const rowsByTable = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) {
      const name = rows[i].table.name;
      rowsByTable.set(name, (rowsByTable.get(name) ?? 0) + 1);
    }
    return {
      checkpoint,
      rows: rows.length,
      rowsByTable,
      write: () => rows.length === 0 ? Promise.resolve() : store.write(rows),
    };
  }

  async flush(position?: number): Promise<Checkpoint> {
    if (position === undefined) {
      throw new TypeError(`View job ${this.#o.job} needs the partition position to flush`);
    }
    const f = this.prepareFlush(position);
    await f.write();
    return f.checkpoint;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
