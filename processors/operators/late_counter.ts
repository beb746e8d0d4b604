/**
 * @module
 * Late events per event-time hour for the `late_events` view (absolute per partition). Late
 * events of an hour may arrive at any time, so the count cannot be rebuilt from a bounded replay;
 * instead the task starts from the rows already stored with their write versions: a stored row of
 * version `v` (1 + offset of the newest late event it counts) already includes every late event of
 * its hour below offset `v`, so only later ones are added. Checkpoints are stored after the writes
 * they cover, so every late event below the checkpoint's `nextOffset` is in a stored row: replayed
 * late events are never counted again (the gate may even decide a replayed record differently
 * when its first copy lies before the replay offset; its effect stays inside the replay).
 */
import { HOUR_MS } from "../../shared/time.ts";

/** One hour's late count, as stored. */
export interface LateHour {
  /** Start of the event-time hour (epoch ms). */
  hour: number;
  late: number;
  /** 1 + offset of the newest late event counted (the row's write timestamp). */
  version: number;
}

interface Entry extends LateHour {
  dirty: boolean;
}

function hourOf(ms: number): number {
  return ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

/** Late events of one partition by event-time hour. */
export class LateCounter {
  #hours = new Map<number, Entry>();
  #dirty: Entry[] = [];

  /** @param stored the partition's rows as stored (with their write versions) */
  constructor(stored: Iterable<LateHour> = []) {
    for (const h of stored) {
      const prev = this.#hours.get(h.hour);
      if (!prev || h.version > prev.version) this.#hours.set(h.hour, { ...h, dirty: false });
    }
  }

  /**
   * Counts one late event unless a stored row already includes it (every replayed one, and any
   * below its row's version).
   */
  add(eventTime: number, offset: number, replaying: boolean): void {
    if (replaying) return;
    const hour = hourOf(eventTime);
    let e = this.#hours.get(hour);
    if (e === undefined) this.#hours.set(hour, e = { hour, late: 0, version: 0, dirty: false });
    if (offset + 1 <= e.version) return; // already counted in the stored row
    e.late++;
    e.version = offset + 1;
    if (!e.dirty) {
      e.dirty = true;
      this.#dirty.push(e);
    }
  }

  /** Hours changed since the last call. */
  drainDirty(): LateHour[] {
    const out = this.#dirty.map((e) => {
      e.dirty = false;
      return { hour: e.hour, late: e.late, version: e.version };
    });
    this.#dirty = [];
    return out;
  }
}
