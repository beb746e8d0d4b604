/**
 * @module
 * Per-partition event-time watermark of docs/DESIGN.md: `wm = maxEventTimeSeen − allowedLateness`.
 * An event is late when its minute ends at or before the watermark, evaluated before the event
 * itself updates the max. Purely data-driven, so a replay decides the same.
 */
import { MINUTE_MS } from "../../shared/time.ts";
import { NO_TIME } from "./replay_point.ts";

/** Options of {@link WatermarkTracker}. */
export interface WatermarkOptions {
  /** Allowed lateness in ms (`ALLOWED_LATENESS_MS`), ≥ 0. */
  allowedLatenessMs: number;
  /** Max event time seen before the first event fed (a checkpoint's replay max); default none. */
  initialMaxEventTime?: number;
}

/** Start of the UTC minute of `t` (event times may precede 1970). */
function minuteOf(t: number): number {
  return t - (((t % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

/** Tracks one partition's max event time and watermark. */
export class WatermarkTracker {
  readonly allowedLatenessMs: number;
  #max: number;

  constructor(options: WatermarkOptions) {
    const l = options.allowedLatenessMs;
    if (!(Number.isFinite(l) && l >= 0)) {
      throw new RangeError(`Cannot track watermark: 'allowedLatenessMs' must be ≥ 0, got ${l}`);
    }
    this.allowedLatenessMs = l;
    this.#max = options.initialMaxEventTime ?? NO_TIME;
  }

  /** Max event time seen ({@link NO_TIME} before any event). */
  get maxEventTime(): number {
    return this.#max;
  }

  /** Current watermark ({@link NO_TIME} before any event). */
  get watermark(): number {
    return this.#max - this.allowedLatenessMs;
  }

  /** Whether an event at `eventTime` is late against the current watermark. */
  isLate(eventTime: number): boolean {
    return minuteOf(eventTime) + MINUTE_MS <= this.#max - this.allowedLatenessMs;
  }

  /**
   * Decides lateness of an event, then lets it advance the max event time.
   * @returns true when the event is late
   */
  observe(eventTime: number): boolean {
    const late = this.isLate(eventTime);
    if (eventTime > this.#max) this.#max = eventTime;
    return late;
  }
}
