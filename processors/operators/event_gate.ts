/**
 * @module
 * The per-partition gate every realtime view shares: realtime deduplication (1 h by Kafka
 * timestamp), then the late rule against the partition's watermark, then the watermark update.
 * A duplicate neither counts nor moves the watermark. One gate per (topic, partition) serves all
 * view jobs reading it, so the dedup memory is held once.
 */
import { DedupFilter } from "./dedup.ts";
import type { ReplayPoint } from "./replay_point.ts";
import { WatermarkTracker } from "./watermark.ts";

/** What the gate decided about one event. */
export interface GateDecision {
  /** A re-sent copy within the dedup horizon: apply nowhere. */
  duplicate: boolean;
  /** Later than the allowed lateness: count as late, apply nowhere. */
  late: boolean;
  /** The partition's max event time before this event (for replay points). */
  maxEventTimeBefore: number;
  /** The partition's watermark after this event. */
  watermark: number;
}

/** Options of {@link EventGate}. */
export interface EventGateOptions {
  /** `ALLOWED_LATENESS_MS`. */
  allowedLatenessMs: number;
  /** Dedup horizon by Kafka timestamp; default 3600000. */
  dedupHorizonMs?: number;
  /** Max event time before the first event fed (a checkpoint's `replayMaxEventTime`). */
  initialMaxEventTime?: number;
}

/** Dedup, lateness and watermark of one (topic, partition). */
export class EventGate {
  #dedup: DedupFilter;
  #wm: WatermarkTracker;
  #duplicates = 0;
  #late = 0;

  constructor(options: EventGateOptions) {
    this.#dedup = new DedupFilter({ horizonMs: options.dedupHorizonMs });
    this.#wm = new WatermarkTracker({
      allowedLatenessMs: options.allowedLatenessMs,
      initialMaxEventTime: options.initialMaxEventTime,
    });
  }

  /**
   * Decides one event, in offset order.
   * @param eventId the event_id, or undefined for events without one (never duplicates)
   */
  decide(
    eventId: string | undefined,
    eventTime: number,
    kafkaTs: number,
    offset: number,
  ): GateDecision {
    const before = this.#wm.maxEventTime;
    if (eventId !== undefined && this.#dedup.check(eventId, kafkaTs, offset, before)) {
      this.#duplicates++;
      return {
        duplicate: true,
        late: false,
        maxEventTimeBefore: before,
        watermark: this.#wm.watermark,
      };
    }
    const late = this.#wm.observe(eventTime);
    if (late) this.#late++;
    return { duplicate: false, late, maxEventTimeBefore: before, watermark: this.#wm.watermark };
  }

  /** The partition's watermark. */
  get watermark(): number {
    return this.#wm.watermark;
  }

  /** The partition's max event time. */
  get maxEventTime(): number {
    return this.#wm.maxEventTime;
  }

  /** Duplicates and late events decided so far (replays included). */
  get counts(): { duplicates: number; late: number; remembered: number } {
    return { duplicates: this.#duplicates, late: this.#late, remembered: this.#dedup.size };
  }

  /** Where a replay must start to rebuild the dedup memory. */
  replayPoint(): ReplayPoint | undefined {
    return this.#dedup.replayPoint();
  }
}
