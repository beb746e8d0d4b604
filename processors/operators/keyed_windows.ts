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

/**
 * Which dirty cells a {@link KeyedWindows.drainDirty} takes now; the others stay dirty (deferred).
 * Asked per window first, so that a window none of whose cells are due costs nothing per flush.
 */
export interface DuePolicy<S> {
  /** Whether all, none or some of the dirty cells of window `[start, end)` are due. */
  window(start: number, end: number): "all" | "none" | "some";
  /** For a window with "some": whether this cell is due. */
  cell(cell: WindowCell<S>): boolean;
}

/** Deferred dirty cells of one window. */
interface Deferred<S> {
  start: number;
  end: number;
  cells: WindowCell<S>[];
  /** The smallest `dirtySince` of `cells`. */
  since: number;
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
  /** Cells marked dirty since the last drain, in marking order. */
  #dirty: WindowCell<S>[] = [];
  /** Cells an earlier drain deferred, by window start. */
  #deferred = new Map<number, Deferred<S>>();
  #deferredCount = 0;
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
   * Cells changed since the last call (each once), clearing their dirty flags. With `due`, the
   * other dirty cells stay dirty for a later call (deferred writes) and {@link deferredFrom} tells
   * from which offset their changes are still unwritten. Deferred cells are kept by window, so a
   * drain costs the cells marked since the last one plus the windows with some cells due, not
   * every deferred cell.
   */
  drainDirty(due?: DuePolicy<S>): WindowCell<S>[] {
    const fresh = this.#dirty;
    this.#dirty = [];
    let out: WindowCell<S>[];
    if (!due) {
      out = fresh;
      for (const d of this.#deferred.values()) for (const c of d.cells) out.push(c);
      this.#deferred.clear();
      this.#deferredCount = 0;
    } else {
      out = [];
      // Deferred windows first: a fresh cell deferred below joins its window's list after them.
      for (const [start, d] of this.#deferred) {
        const which = due.window(d.start, d.end);
        if (which === "none") continue;
        if (which === "all") {
          for (const c of d.cells) out.push(c);
          this.#deferredCount -= d.cells.length;
          this.#deferred.delete(start);
          continue;
        }
        const kept: WindowCell<S>[] = [];
        let since = Infinity;
        for (const c of d.cells) {
          if (due.cell(c)) out.push(c);
          else {
            kept.push(c);
            if (c.dirtySince < since) since = c.dirtySince;
          }
        }
        this.#deferredCount -= d.cells.length - kept.length;
        if (kept.length === 0) this.#deferred.delete(start);
        else {
          d.cells = kept;
          d.since = since;
        }
      }
      let last: Deferred<S> | undefined;
      let lastWhich: "all" | "none" | "some" = "none";
      for (const c of fresh) {
        if (last === undefined || last.start !== c.start) {
          last = this.#deferred.get(c.start);
          if (last === undefined) last = { start: c.start, end: c.end, cells: [], since: Infinity };
          lastWhich = due.window(c.start, c.end);
        }
        if (lastWhich === "all" || (lastWhich === "some" && due.cell(c))) {
          out.push(c);
          continue;
        }
        if (last.cells.length === 0) this.#deferred.set(c.start, last);
        last.cells.push(c);
        if (c.dirtySince < last.since) last.since = c.dirtySince;
        this.#deferredCount++;
      }
    }
    this.#deferredFrom = undefined;
    for (const d of this.#deferred.values()) {
      if (this.#deferredFrom === undefined || d.since < this.#deferredFrom) {
        this.#deferredFrom = d.since;
      }
    }
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
    return this.#dirty.length + this.#deferredCount;
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
