/**
 * @module
 * Event-time session windows per key: consecutive events (by event time) at most `gapMs` apart
 * share a session; an out-of-order event may extend a session backwards or bridge two sessions,
 * which then merge. A session closes once no event the gate still accepts could join it:
 * `watermark ≥ end + gapMs + closeSlackMs`, where the slack is the lateness granularity (a minute:
 * the gate accepts events whose minute ends after the watermark).
 *
 * A session's row is keyed by its start, which moves earlier on merges and early events, so each
 * drained change lists the starts whose rows must be deleted.
 */
import { MinHeap } from "./_heap.ts";
import type { ReplayPoint } from "./replay_point.ts";

/** One open (or just closed) session of a key. */
export interface Session<S> {
  readonly key: string;
  /** First event time (inclusive). */
  start: number;
  /** Last event time (inclusive). */
  end: number;
  /** The aggregate; the caller mutates it after {@link SessionWindows.add}. */
  state: S;
  /** 1 + offset of the newest event that changed the session (the row's write timestamp). */
  version: number;
  /** True once the watermark closed the session (its final row). */
  closed: boolean;
}

/** A session changed since the last drain, and the row starts it left behind. */
export interface SessionChange<S> {
  session: Session<S>;
  /** Starts of rows of this session other than its current start, to delete. */
  staleStarts: number[];
}

/** Options of {@link SessionWindows}. */
export interface SessionOptions<S> {
  /** Largest gap between consecutive events of a session; default 1800000 (30 min). */
  gapMs?: number;
  /** Extra watermark progress before a session closes; default 60000 (the lateness granularity). */
  closeSlackMs?: number;
  /** A fresh aggregate. */
  init: (key: string) => S;
  /** Folds `from` into `into` when two sessions merge (`from` started later). */
  merge: (into: S, from: S) => void;
}

interface Entry<S> extends Session<S> {
  first: ReplayPoint;
  /** Every start this session had since the last drain (its row may exist under each). */
  starts: Set<number>;
  dirty: boolean;
  alive: boolean;
}

/** Keyed session windows. */
export class SessionWindows<S> {
  readonly gapMs: number;
  readonly closeSlackMs: number;
  #o: SessionOptions<S>;
  #byKey = new Map<string, Entry<S>[]>();
  #closing = new MinHeap<[Entry<S>, number]>();
  #dirty: Entry<S>[] = [];
  #open = 0;
  /** The replay point of the open sessions; null when it must be recomputed (a session closed). */
  #replay: ReplayPoint | undefined | null = undefined;

  constructor(options: SessionOptions<S>) {
    const gap = options.gapMs ?? 1_800_000;
    const slack = options.closeSlackMs ?? 60_000;
    if (!(Number.isFinite(gap) && gap >= 0)) {
      throw new RangeError(`Cannot open session windows: 'gapMs' must be ≥ 0, got ${gap}`);
    }
    if (!(Number.isFinite(slack) && slack >= 0)) {
      throw new RangeError(
        `Cannot open session windows: 'closeSlackMs' must be ≥ 0, got ${slack}`,
      );
    }
    this.gapMs = gap;
    this.closeSlackMs = slack;
    this.#o = options;
  }

  /** Number of open sessions. */
  get openSessions(): number {
    return this.#open;
  }

  /**
   * The session of `key` that an event at `eventTime` joins (after any merges it causes), stamped
   * with the event's version; the caller then folds the event into `state`.
   */
  add(
    key: string,
    eventTime: number,
    offset: number,
    maxEventTimeBefore: number,
    replaying: boolean,
  ): Session<S> {
    let list = this.#byKey.get(key);
    if (list === undefined) this.#byKey.set(key, list = []);
    const gap = this.gapMs;
    // Sessions are disjoint and sorted by start; find those within `gap` of the event.
    let i = 0;
    while (i < list.length && list[i].end + gap < eventTime) i++;
    let j = i;
    while (j < list.length && list[j].start - gap <= eventTime) j++;
    let s: Entry<S>;
    if (i === j) {
      s = {
        key,
        start: eventTime,
        end: eventTime,
        state: this.#o.init(key),
        version: 0,
        closed: false,
        first: { offset, maxEventTime: maxEventTimeBefore },
        starts: new Set([eventTime]),
        dirty: false,
        alive: true,
      };
      list.splice(i, 0, s);
      this.#open++;
      if (this.#replay !== null && (!this.#replay || s.first.offset < this.#replay.offset)) {
        this.#replay = s.first;
      }
    } else {
      s = list[i];
      for (let k = i + 1; k < j; k++) this.#absorb(s, list[k]);
      if (j - i > 1) list.splice(i + 1, j - i - 1);
      if (eventTime < s.start) s.start = eventTime;
      if (eventTime > s.end) s.end = eventTime;
      s.starts.add(s.start);
    }
    s.version = offset + 1;
    this.#closing.push([s, s.end], s.end + gap + this.closeSlackMs);
    if (!replaying) this.#markDirty(s);
    return s;
  }

  /**
   * Closes every session that no accepted event can join any more; a closed session is changed
   * (its final row) by the event at `offset` that moved the watermark, then forgotten.
   * @returns the number of sessions closed
   */
  closeThrough(watermark: number, offset: number, replaying: boolean): number {
    let n = 0;
    while (this.#closing.peekPriority() <= watermark) {
      const [s, endAtPush] = this.#closing.pop()!;
      if (!s.alive || s.end !== endAtPush) continue; // superseded entry
      s.alive = false;
      s.closed = true;
      if (this.#replay && s.first.offset <= this.#replay.offset) this.#replay = null;
      s.version = offset + 1;
      this.#open--;
      n++;
      const list = this.#byKey.get(s.key)!;
      list.splice(list.indexOf(s), 1);
      if (list.length === 0) this.#byKey.delete(s.key);
      if (!replaying) this.#markDirty(s);
    }
    return n;
  }

  /** Sessions changed since the last call, with the row starts each left behind. */
  drainDirty(): SessionChange<S>[] {
    const out: SessionChange<S>[] = [];
    for (const s of this.#dirty) {
      if (!s.alive && !s.closed) continue; // merged into another session, written through it
      s.dirty = false;
      const stale: number[] = [];
      for (const st of s.starts) if (st !== s.start) stale.push(st);
      s.starts = new Set([s.start]);
      out.push({ session: s, staleStarts: stale });
    }
    this.#dirty = [];
    return out;
  }

  /** Number of sessions changed since the last drain. */
  get dirtyCount(): number {
    return this.#dirty.length;
  }

  /** Where a replay must start to rebuild every open session. */
  replayPoint(): ReplayPoint | undefined {
    // Kept up to date as sessions open and merge (a merge keeps the earlier first offset);
    // recomputed only after the session holding it closed.
    if (this.#replay !== null) return this.#replay;
    let best: ReplayPoint | undefined;
    for (const list of this.#byKey.values()) {
      for (const s of list) if (!best || s.first.offset < best.offset) best = s.first;
    }
    this.#replay = best;
    return best;
  }

  #absorb(into: Entry<S>, from: Entry<S>): void {
    this.#o.merge(into.state, from.state);
    if (from.start < into.start) into.start = from.start;
    if (from.end > into.end) into.end = from.end;
    if (from.first.offset < into.first.offset) into.first = from.first;
    for (const st of from.starts) into.starts.add(st);
    into.starts.add(into.start);
    from.alive = false;
    this.#open--;
    // A merged-away session that was dirty is written through `into` (its starts moved there).
    from.dirty = false;
  }

  #markDirty(s: Entry<S>): void {
    if (!s.dirty) {
      s.dirty = true;
      this.#dirty.push(s);
    }
  }
}
