/**
 * @module
 * The state of keyed event-time windows: one cell per (key, window), grouped by window so that a
 * watermark closes whole windows at once. Each cell carries the version of its row (1 + offset of
 * the newest event that changed it) and a dirty flag; each window remembers the first offset that
 * built it, which is what a replay must start from while the window is open.
 */
import type { ReplayPoint } from "./replay_point.ts";

/** One key's state in one window. */
export interface WindowCell<S> {
  readonly key: string;
  /** Window start (inclusive, epoch ms). */
  readonly start: number;
  /** Window end (exclusive, epoch ms). */
  readonly end: number;
  /** The aggregate; the caller mutates it after {@link KeyedWindows.cell}. */
  state: S;
  /** 1 + offset of the newest event that changed the cell: the row's write timestamp. */
  version: number;
  /** Changed since the last {@link KeyedWindows.drainDirty}. */
  dirty: boolean;
  /** Offset of the change that made the cell dirty (its oldest unwritten change), −1 when clean. */
  dirtySince: number;
}

interface Window<S> {
  start: number;
  end: number;
  first: ReplayPoint;
  cells: Map<string, WindowCell<S>>;
}

/** Options of {@link KeyedWindows}. */
export interface KeyedWindowsOptions<S> {
  /** A fresh aggregate for a new cell. */
  init: (key: string, start: number, end: number) => S;
}

/** Keyed windows closed by a watermark. */
export class KeyedWindows<S> {
  #init: KeyedWindowsOptions<S>["init"];
  #byStart = new Map<number, Window<S>>();
  /** Open windows ordered by end, then start. */
  #byEnd: Window<S>[] = [];
  #dirty: WindowCell<S>[] = [];
  #deferredFrom: number | undefined;
  #cells = 0;

  constructor(options: KeyedWindowsOptions<S>) {
    this.#init = options.init;
  }

  /** Number of open windows. */
  get openWindows(): number {
    return this.#byEnd.length;
  }

  /** Number of cells in open windows. */
  get openCells(): number {
    return this.#cells;
  }

  /**
   * The cell of `key` in window `[start, end)`, created when new, stamped with this event's
   * version and marked dirty unless `replaying`.
   * @param offset offset of the event about to change the cell
   * @param maxEventTimeBefore the partition's max event time before that event
   */
  cell(
    key: string,
    start: number,
    end: number,
    offset: number,
    maxEventTimeBefore: number,
    replaying: boolean,
  ): WindowCell<S> {
    let w = this.#byStart.get(start);
    if (w === undefined) {
      if (!(end > start)) {
        throw new RangeError(`Cannot open window: end ${end} must be after start ${start}`);
      }
      w = { start, end, first: { offset, maxEventTime: maxEventTimeBefore }, cells: new Map() };
      this.#byStart.set(start, w);
      this.#insertByEnd(w);
    }
    let c = w.cells.get(key);
    if (c === undefined) {
      c = {
        key,
        start,
        end,
        state: this.#init(key, start, end),
        version: 0,
        dirty: false,
        dirtySince: -1,
      };
      w.cells.set(key, c);
      this.#cells++;
    }
    c.version = offset + 1;
    if (!replaying && !c.dirty) {
      c.dirty = true;
      c.dirtySince = offset;
      this.#dirty.push(c);
    }
    return c;
  }

  /**
   * Closes (forgets) every window whose end is at or before `watermark`. Dirty cells of closed
   * windows are still returned by the next {@link drainDirty}.
   * @returns the number of windows closed
   */
  closeThrough(watermark: number): number {
    let n = 0;
    while (n < this.#byEnd.length && this.#byEnd[n].end <= watermark) {
      const w = this.#byEnd[n];
      this.#byStart.delete(w.start);
      this.#cells -= w.cells.size;
      n++;
    }
    if (n > 0) this.#byEnd.splice(0, n);
    return n;
  }

  /**
   * Cells changed since the last call (each once), clearing their dirty flags. With `eligible`,
   * the other dirty cells stay dirty for a later call (deferred writes) and
   * {@link deferredFrom} tells from which offset their changes are still unwritten.
   */
  drainDirty(eligible?: (cell: WindowCell<S>) => boolean): WindowCell<S>[] {
    const all = this.#dirty;
    let out = all;
    this.#deferredFrom = undefined;
    if (eligible) {
      out = [];
      const kept: WindowCell<S>[] = [];
      for (const c of all) {
        if (eligible(c)) out.push(c);
        else {
          kept.push(c);
          if (this.#deferredFrom === undefined || c.dirtySince < this.#deferredFrom) {
            this.#deferredFrom = c.dirtySince;
          }
        }
      }
      this.#dirty = kept;
    } else this.#dirty = [];
    for (const c of out) {
      c.dirty = false;
      c.dirtySince = -1;
    }
    return out;
  }

  /** The oldest unwritten change of the cells the last drain deferred (undefined: none). */
  deferredFrom(): number | undefined {
    return this.#deferredFrom;
  }

  /** Number of dirty cells. */
  get dirtyCount(): number {
    return this.#dirty.length;
  }

  /** The first offset (and max before it) of the oldest-built open window. */
  replayPoint(): ReplayPoint | undefined {
    let best: ReplayPoint | undefined;
    for (const w of this.#byEnd) if (!best || w.first.offset < best.offset) best = w.first;
    return best;
  }

  #insertByEnd(w: Window<S>): void {
    const a = this.#byEnd;
    let lo = 0, hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid].end < w.end || (a[mid].end === w.end && a[mid].start < w.start)) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, w);
  }
}
