/**
 * @module
 * The stream processors' Prometheus metrics (served at `/metrics`).
 */
import type { Counter, Gauge, Histogram, Registry } from "../../shared/metrics.ts";

/** Latency buckets in seconds, fine around the 1 s target. */
export const LATENCY_BUCKETS = [
  0.01,
  0.025,
  0.05,
  0.1,
  0.15,
  0.2,
  0.3,
  0.4,
  0.5,
  0.75,
  1,
  1.5,
  2,
  3,
  5,
  10,
  30,
  60,
];

/** Every metric the runtime updates. */
export interface ProcessorMetrics {
  eventsIn: Counter;
  rejected: Counter;
  late: Counter;
  deduplicated: Counter;
  replayed: Counter;
  rowsWritten: Counter;
  flushFailures: Counter;
  lag: Gauge;
  watermark: Gauge;
  assigned: Gauge;
  flushSeconds: Histogram;
  eventToView: Histogram;
}

/** Registers the processor metrics. */
export function processorMetrics(registry: Registry): ProcessorMetrics {
  return {
    eventsIn: registry.counter(
      "processor_events_in_total",
      "Records consumed (valid or not), replays excluded",
      ["topic"],
    ),
    rejected: registry.counter(
      "processor_events_rejected_total",
      "Invalid records sent to the dead-letter topic",
      ["topic", "reason"],
    ),
    late: registry.counter(
      "processor_events_late_total",
      "Events later than the allowed lateness (left to the batch layer)",
      ["topic"],
    ),
    deduplicated: registry.counter(
      "events_deduplicated_total",
      "Re-sent copies dropped by realtime dedup (1 h)",
      ["topic"],
    ),
    replayed: registry.counter(
      "processor_events_replayed_total",
      "Records re-read to rebuild state after a restart or rebalance",
      ["topic"],
    ),
    rowsWritten: registry.counter(
      "processor_rows_written_total",
      "Realtime rows upserted or deleted, per table",
      ["table"],
    ),
    flushFailures: registry.counter(
      "processor_flush_failures_total",
      "Flush attempts that failed (retried with backoff)",
      ["stage"],
    ),
    lag: registry.gauge(
      "processor_consumer_lag",
      "Kafka end offset minus the next offset to read",
      ["topic", "partition"],
    ),
    watermark: registry.gauge(
      "processor_watermark_ms",
      "Event-time watermark per partition (epoch ms)",
      ["topic", "partition"],
    ),
    assigned: registry.gauge("processor_assigned_partitions", "Partitions owned by this process"),
    flushSeconds: registry.histogram(
      "processor_flush_seconds",
      "Time to write a flush's rows, dead letters and checkpoints",
      LATENCY_BUCKETS,
    ),
    eventToView: registry.histogram(
      "processor_event_to_view_seconds",
      "Time from an event's Kafka timestamp until its view rows were written",
      LATENCY_BUCKETS,
    ),
  };
}
