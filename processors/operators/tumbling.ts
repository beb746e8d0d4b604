/**
 * @module
 * Tumbling (fixed, non-overlapping) event-time windows, e.g. the minute buckets of every realtime
 * view. Buckets are UTC-aligned and half-open.
 */
import { KeyedWindows, type WindowCell } from "./keyed_windows.ts";
import type { ReplayPoint } from "./replay_point.ts";

/** Options of {@link TumblingWindows}. */
export interface TumblingOptions<S> {
  /** Window size in ms; default 60000 (one minute). */
  sizeMs?: number;
  /** A fresh aggregate for a new (key, window). */
  init: (key: string, start: number) => S;
}

/** Keyed tumbling windows; a window closes when the watermark reaches its end. */
export class TumblingWindows<S> {
  readonly sizeMs: number;
  #windows: KeyedWindows<S>;

  constructor(options: TumblingOptions<S>) {
    const size = options.sizeMs ?? 60_000;
    if (!(Number.isInteger(size) && size > 0)) {
      throw new RangeError(`Cannot open tumbling windows: 'sizeMs' must be > 0, got ${size}`);
    }
    this.sizeMs = size;
    const init = options.init;
    this.#windows = new KeyedWindows<S>({ init: (key, start) => init(key, start) });
  }

  /** Start of the window holding `eventTime`. */
  windowStart(eventTime: number): number {
    return eventTime - (((eventTime % this.sizeMs) + this.sizeMs) % this.sizeMs);
  }

  /**
   * The cell of `key` in the window of `eventTime`, to be changed by the event at `offset`.
   * @param maxEventTimeBefore the partition's max event time before that event
   * @param replaying true while rebuilding state (the cell is not marked dirty)
   */
  update(
    key: string,
    eventTime: number,
    offset: number,
    maxEventTimeBefore: number,
    replaying: boolean,
  ): WindowCell<S> {
    const start = this.windowStart(eventTime);
    return this.#windows.cell(
      key,
      start,
      start + this.sizeMs,
      offset,
      maxEventTimeBefore,
      replaying,
    );
  }

  /** Closes the windows whose end is at or before `watermark`; returns how many. */
  closeThrough(watermark: number): number {
    return this.#windows.closeThrough(watermark);
  }

  /** Cells changed since the last call. */
  drainDirty(): WindowCell<S>[] {
    return this.#windows.drainDirty();
  }

  /** Where a replay must start to rebuild the open windows. */
  replayPoint(): ReplayPoint | undefined {
    return this.#windows.replayPoint();
  }

  /** Number of open windows and cells. */
  get open(): { windows: number; cells: number } {
    return { windows: this.#windows.openWindows, cells: this.#windows.openCells };
  }
}
