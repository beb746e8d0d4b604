/**
 * @module
 * Generic view parts: per-key minute buckets (tumbling) and per-key sliding windows, each built
 * from a small spec of pure row-builder functions (which events, which key, how to fold, which
 * row), so a job is mostly its specs.
 */
import type { ValidEvent } from "../../shared/events.ts";
import { SlidingWindows } from "../operators/sliding.ts";
import { TumblingWindows } from "../operators/tumbling.ts";
import type { ReplayPoint } from "../operators/replay_point.ts";
import type { EventContext, RecordMeta } from "../runtime/task.ts";
import type { TableSpec } from "../store/tables.ts";
import type { RowWrite } from "../store/view_store.ts";
import type { PartEnv, ViewPart } from "./view_task.ts";

/** Pure description of a bucketed view: which events, keyed how, folded how, written as what. */
export interface BucketSpec<S> {
  table: TableSpec;
  /** The bucket key of an event, or undefined when the event does not feed this view. */
  key(event: ValidEvent): string | undefined;
  /** A fresh aggregate for the first event of a (key, bucket). */
  init(event: ValidEvent): S;
  /** Folds one event into the aggregate. */
  fold(state: S, event: ValidEvent, meta: RecordMeta): void;
  /**
   * The row of an aggregate, in the table's column order.
   * @param start bucket start; @param end bucket end
   */
  row(state: S, start: number, end: number, env: PartEnv): unknown[];
}

/** A per-key tumbling aggregate (minute buckets by default). */
export class BucketPart<S> implements ViewPart {
  #spec: BucketSpec<S>;
  #env: PartEnv;
  #windows: TumblingWindows<S | undefined>;

  constructor(spec: BucketSpec<S>, env: PartEnv, sizeMs = 60_000) {
    this.#spec = spec;
    this.#env = env;
    this.#windows = new TumblingWindows<S | undefined>({ sizeMs, init: () => undefined });
  }

  apply(event: ValidEvent, meta: RecordMeta, ctx: EventContext, replaying: boolean): void {
    const key = this.#spec.key(event);
    if (key === undefined) return;
    const cell = this.#windows.update(
      key,
      event.eventTime,
      meta.offset,
      ctx.maxEventTimeBefore,
      replaying,
    );
    cell.state ??= this.#spec.init(event);
    this.#spec.fold(cell.state, event, meta);
  }

  advance(watermark: number): void {
    this.#windows.closeThrough(watermark);
  }

  drain(out: RowWrite[]): void {
    for (const c of this.#windows.drainDirty()) {
      out.push({
        table: this.#spec.table,
        op: "upsert",
        values: this.#spec.row(c.state!, c.start, c.end, this.#env),
        version: c.version,
      });
    }
  }

  replayPoint(): ReplayPoint | undefined {
    return this.#windows.replayPoint();
  }
}

/** A per-key sliding aggregate (5-minute windows every minute by default). */
export class SlidingPart<S> implements ViewPart {
  #spec: BucketSpec<S>;
  #env: PartEnv;
  #windows: SlidingWindows<S | undefined>;

  constructor(spec: BucketSpec<S>, env: PartEnv, sizeMs = 300_000, slideMs = 60_000) {
    this.#spec = spec;
    this.#env = env;
    this.#windows = new SlidingWindows<S | undefined>({ sizeMs, slideMs, init: () => undefined });
  }

  apply(event: ValidEvent, meta: RecordMeta, ctx: EventContext, replaying: boolean): void {
    const key = this.#spec.key(event);
    if (key === undefined) return;
    const cells = this.#windows.update(
      key,
      event.eventTime,
      meta.offset,
      ctx.maxEventTimeBefore,
      replaying,
    );
    for (const cell of cells) {
      cell.state ??= this.#spec.init(event);
      this.#spec.fold(cell.state, event, meta);
    }
  }

  advance(watermark: number): void {
    this.#windows.closeThrough(watermark);
  }

  drain(out: RowWrite[], maxEventTime?: number): void {
    for (const c of this.#windows.drainDirty(maxEventTime)) {
      out.push({
        table: this.#spec.table,
        op: "upsert",
        values: this.#spec.row(c.state!, c.start, c.end, this.#env),
        version: c.version,
      });
    }
  }

  deferredFrom(): number | undefined {
    return this.#windows.deferredFrom();
  }

  replayPoint(): ReplayPoint | undefined {
    return this.#windows.replayPoint();
  }
}
