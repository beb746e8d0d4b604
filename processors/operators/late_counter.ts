/**
 * @module
 * Counts late events per arrival hour (the UTC hour of their Kafka timestamp) for the
 * `late_events` view. Counting by arrival hour keeps each row an absolute per-partition figure that
 * a replay rebuilds exactly: an hour's count is final once the partition's Kafka time leaves the
 * hour, so only the current hour is open state.
 */
import { HOUR_MS } from "../../shared/time.ts";
import type { ReplayPoint } from "./replay_point.ts";

/** One hour's late count, as written. */
export interface LateHour {
  /** Start of the arrival hour (epoch ms). */
  hour: number;
  late: number;
  /** 1 + offset of the newest late event counted. */
  version: number;
}

interface Open extends LateHour {
  first: ReplayPoint;
  dirty: boolean;
}

function hourOf(ms: number): number {
  return ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

/** Late events of one partition by arrival hour. */
export class LateCounter {
  #open: Open | undefined;
  #dirty: Open[] = [];

  /**
   * Lets the partition's Kafka time move on: closes the open hour once `kafkaTs` is past it.
   * Call for every event, late or not.
   */
  advance(kafkaTs: number): void {
    if (this.#open && kafkaTs >= this.#open.hour + HOUR_MS) this.#open = undefined;
  }

  /** Counts one late event (after {@link advance} with its Kafka timestamp). */
  add(kafkaTs: number, offset: number, maxEventTimeBefore: number, replaying: boolean): void {
    let o = this.#open;
    if (o === undefined) {
      o = this.#open = {
        hour: hourOf(kafkaTs),
        late: 0,
        version: 0,
        first: { offset, maxEventTime: maxEventTimeBefore },
        dirty: false,
      };
    }
    // A Kafka timestamp behind the open hour (out-of-order producer clocks) counts in the open hour.
    o.late++;
    o.version = offset + 1;
    if (!replaying && !o.dirty) {
      o.dirty = true;
      this.#dirty.push(o);
    }
  }

  /** Hours changed since the last call. */
  drainDirty(): LateHour[] {
    const out = this.#dirty.map((o) => {
      o.dirty = false;
      return { hour: o.hour, late: o.late, version: o.version };
    });
    this.#dirty = [];
    return out;
  }

  /** Where a replay must start to rebuild the open hour's count. */
  replayPoint(): ReplayPoint | undefined {
    return this.#open?.first;
  }
}
