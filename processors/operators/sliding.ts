/**
 * @module
 * Sliding (hopping) event-time windows: windows of `sizeMs` starting every `slideMs`, e.g. the
 * 5-minute activity windows every minute. An event belongs to `sizeMs / slideMs` windows; each
 * window is keyed by its start and closes when the watermark reaches its end.
 */
import { KeyedWindows, type WindowCell } from "./keyed_windows.ts";
import type { ReplayPoint } from "./replay_point.ts";

/** A fraction in [0, 1) fixed per key (FNV-1a of its UTF-16 code units). */
export function keyFraction(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 4294967296;
}

/** Options of {@link SlidingWindows}. */
export interface SlidingOptions<S> {
  /** Window length in ms; default 300000 (5 minutes). */
  sizeMs?: number;
  /** Distance between window starts in ms, dividing `sizeMs`; default 60000 (1 minute). */
  slideMs?: number;
  /** A fresh aggregate for a new (key, window). */
  init: (key: string, start: number, end: number) => S;
}

/** Keyed sliding windows. */
export class SlidingWindows<S> {
  readonly sizeMs: number;
  readonly slideMs: number;
  #windows: KeyedWindows<S>;

  constructor(options: SlidingOptions<S>) {
    const size = options.sizeMs ?? 300_000;
    const slide = options.slideMs ?? 60_000;
    if (!(Number.isInteger(slide) && slide > 0)) {
      throw new RangeError(`Cannot open sliding windows: 'slideMs' must be > 0, got ${slide}`);
    }
    if (!(Number.isInteger(size) && size >= slide && size % slide === 0)) {
      throw new RangeError(
        `Cannot open sliding windows: 'sizeMs' must be a multiple of 'slideMs' (${slide}), got ${size}`,
      );
    }
    this.sizeMs = size;
    this.slideMs = slide;
    this.#windows = new KeyedWindows<S>({ init: options.init });
  }

  /**
   * The cells of `key` in every window holding `eventTime` (oldest window first), to be changed
   * by the event at `offset`.
   */
  update(
    key: string,
    eventTime: number,
    offset: number,
    maxEventTimeBefore: number,
    replaying: boolean,
  ): WindowCell<S>[] {
    const slide = this.slideMs;
    const lastStart = eventTime - (((eventTime % slide) + slide) % slide);
    const out: WindowCell<S>[] = [];
    for (let start = lastStart - this.sizeMs + slide; start <= lastStart; start += slide) {
      out.push(
        this.#windows.cell(key, start, start + this.sizeMs, offset, maxEventTimeBefore, replaying),
      );
    }
    return out;
  }

  /** Closes the windows whose end is at or before `watermark`; returns how many. */
  closeThrough(watermark: number): number {
    return this.#windows.closeThrough(watermark);
  }

  /**
   * Cells changed since the last call. With `maxEventTime`, cells of future windows are deferred:
   * an event changes `sizeMs / slideMs` windows, but only the current one needs writing now; a
   * future window is written once it becomes current (or on a drain without `maxEventTime`), after
   * collecting every change meanwhile. So that the windows of all keys do not become due at the
   * same instant (a burst of writes at every slide boundary), a key's next window becomes due a
   * little early, by a fraction of `spreadMs` fixed per key. {@link deferredFrom} says from which
   * offset writes are deferred.
   * @param spreadMs how early at most a key's next window becomes due; default a third of a slide
   */
  drainDirty(maxEventTime?: number, spreadMs = this.slideMs / 3): WindowCell<S>[] {
    if (maxEventTime === undefined) return this.#windows.drainDirty();
    const slide = this.slideMs;
    // A cell is due when end − slide − spreadMs · keyFraction(key) ≤ maxEventTime.
    return this.#windows.drainDirty({
      window(_start, end) {
        const lead = end - slide - maxEventTime;
        if (lead <= 0) return "all";
        return lead >= spreadMs ? "none" : "some";
      },
      cell: (c) => c.end - slide - spreadMs * keyFraction(c.key) <= maxEventTime,
    });
  }

  /** The oldest change the last drain deferred (undefined: none). */
  deferredFrom(): number | undefined {
    return this.#windows.deferredFrom();
  }

  /** Where a replay must start to rebuild the open windows. */
  replayPoint(): ReplayPoint | undefined {
    return this.#windows.replayPoint();
  }
}
