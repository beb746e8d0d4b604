/**
 * @module
 * What the stream runtime reports: /health's JSON, the counters, and the per-partition status
 * rows of `stream_status`.
 */
import type { StreamJob } from "../../shared/config.ts";
import { realtimeWatermark } from "../operators/realtime_watermark.ts";
import { storedTime } from "../jobs/view_task.ts";
import type { PartitionWorker } from "./partition_worker.ts";
import type { PartitionStatus } from "./status_store.ts";

/** A component's state for /health. */
export interface ComponentHealth {
  state: string;
  since: string;
  error?: string;
}

/** What /health reports. */
export interface HealthReport {
  status: "ok" | "degraded";
  reasons: string[];
  consumerGroup: string;
  clientId: string;
  /** Partitions the group assigned to this process (workers start on their first records). */
  assignedPartitions: number;
  jobs: Record<string, { partitions: string[]; lastCheckpointAt: string | null }>;
  partitions: {
    topic: string;
    partition: number;
    nextOffset: number;
    endOffset: number;
    lag: number | null;
    watermark: string | null;
    replaying: boolean;
  }[];
  lastFlushAt: string | null;
  lastFlushMs: number | null;
  realtimeWatermark: string | null;
  cassandra: ComponentHealth;
  kafka: ComponentHealth;
  pendingDeadLetters: number;
  /** Counters since the process started. */
  stats: RuntimeStats;
  /**
   * Event-to-view latency (row writes completed − Kafka timestamp) since the start or the last
   * `POST /latency/reset`, in ms (DDSketch quantiles, 1 % relative error).
   */
  eventToViewMs: { count: number; p50: number | null; p99: number | null; max: number };
}

/** Counters since start (also in /metrics). */
export interface RuntimeStats {
  records: number;
  applied: number;
  invalid: number;
  late: number;
  duplicates: number;
  replayed: number;
  rowsWritten: number;
  flushes: number;
  /** Wall time (ms) spent handling records (parse, gate, operators), summed. */
  handleMs: number;
  /** Wall time (ms) spent snapshotting flushes (building row writes), summed. */
  snapshotMs: number;
  /** Wall time (ms) of row writes (in the background), summed. */
  writeMs: number;
  /** Wall time (ms) of dead-letter sends and checkpoint stores, summed. */
  checkpointMs: number;
}

/** Counters at zero. */
export function emptyStats(): RuntimeStats {
  return {
    records: 0,
    applied: 0,
    invalid: 0,
    late: 0,
    duplicates: 0,
    replayed: 0,
    rowsWritten: 0,
    flushes: 0,
    handleMs: 0,
    snapshotMs: 0,
    writeMs: 0,
    checkpointMs: 0,
  };
}

function iso(ms: number | undefined | null): string | null {
  return ms === undefined || ms === null || !Number.isFinite(ms)
    ? null
    : new Date(ms).toISOString();
}

/** What {@link healthReport} is built from. */
export interface HealthInput {
  now: number;
  reasons: string[];
  consumerGroup: string;
  clientId: string;
  assignedPartitions: number;
  jobs: readonly StreamJob[];
  workers: readonly PartitionWorker[];
  lastCheckpointAt: ReadonlyMap<string, number>;
  lastFlushAt: number | undefined;
  lastFlushMs: number | undefined;
  idlePartitionMs: number;
  cassandra: ComponentHealth;
  kafka: ComponentHealth;
  pendingDeadLetters: number;
  stats: RuntimeStats;
  eventToViewMs: HealthReport["eventToViewMs"];
}

/** The /health report: degraded while any reason stands. */
export function healthReport(i: HealthInput): HealthReport {
  const jobs: HealthReport["jobs"] = {};
  for (const j of i.jobs) {
    jobs[j] = { partitions: [], lastCheckpointAt: iso(i.lastCheckpointAt.get(j)) };
  }
  for (const w of i.workers) {
    for (const j of w.jobs) jobs[j]?.partitions.push(`${w.topicName}/${w.partition}`);
  }
  return {
    status: i.reasons.length > 0 ? "degraded" : "ok",
    reasons: i.reasons,
    consumerGroup: i.consumerGroup,
    clientId: i.clientId,
    assignedPartitions: i.assignedPartitions,
    jobs,
    partitions: i.workers.map((w) => ({
      topic: w.topicName,
      partition: w.partition,
      nextOffset: Math.max(0, w.position),
      endOffset: w.endOffset,
      lag: w.endOffset >= 0 ? Math.max(0, w.endOffset - w.position) : null,
      watermark: iso(w.gate?.watermark),
      replaying: !w.caughtUp,
    })),
    lastFlushAt: iso(i.lastFlushAt),
    lastFlushMs: i.lastFlushMs ?? null,
    realtimeWatermark: iso(
      realtimeWatermark(
        i.workers.filter((w) => w.gate).map((w) => ({
          watermark: w.gate!.watermark,
          lastDataAt: w.lastDataAt,
        })),
        i.now,
        i.idlePartitionMs,
      ),
    ),
    cassandra: i.cassandra,
    kafka: i.kafka,
    pendingDeadLetters: i.pendingDeadLetters,
    stats: { ...i.stats },
    eventToViewMs: i.eventToViewMs,
  };
}

/** The `stream_status` rows of the partitions a process owns. */
export function partitionStatuses(workers: Iterable<PartitionWorker>): PartitionStatus[] {
  return [...workers].map((w) => ({
    topic: w.topicName,
    partition: w.partition,
    watermark: storedTime(w.gate?.watermark ?? -Infinity),
    maxEventTime: storedTime(w.gate?.maxEventTime ?? -Infinity),
    nextOffset: Math.max(0, w.position),
    endOffset: w.endOffset,
    lastDataAt: w.lastDataAt,
  }));
}
