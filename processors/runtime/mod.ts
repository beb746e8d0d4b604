/**
 * @module
 * The stream runtime: the job contract, the partition worker, the Kafka/Cassandra runtime and its
 * HTTP endpoints.
 */
export { backoffDelay, type BackoffOptions } from "./backoff.ts";
export {
  CassandraCheckpointStore,
  type CheckpointEntry,
  checkpointKey,
  type CheckpointStore,
  MemoryCheckpointStore,
} from "./checkpoint_store.ts";
export { deadLetter, DeadLetters, type SourceRecord } from "./dlq.ts";
export { eventTimeOf, type ParsedRecord, parseRecord } from "./fast_parse.ts";
export { Flusher, type FlusherOptions } from "./flusher.ts";
export { healthApp, type HealthSource } from "./health.ts";
export { LatencyTracker } from "./latency.ts";
export { Mutex } from "./lock.ts";
export { LATENCY_BUCKETS, type ProcessorMetrics, processorMetrics } from "./metrics.ts";
export {
  type InputRecord,
  type JobFlush,
  Outcome,
  PartitionWorker,
  type PartitionWorkerOptions,
} from "./partition_worker.ts";
export {
  type ComponentHealth,
  emptyStats,
  type HealthInput,
  type HealthReport,
  healthReport,
  partitionStatuses,
  type RuntimeStats,
} from "./report.ts";
export { StreamRuntime, type StreamRuntimeOptions } from "./runtime.ts";
export {
  CassandraStatusStore,
  MemoryStatusStore,
  type PartitionStatus,
  type StatusStore,
} from "./status_store.ts";
export type {
  Checkpoint,
  EventContext,
  GateView,
  JobDefinition,
  PartitionTask,
  PreparedFlush,
  RecordMeta,
  TaskContext,
} from "./task.ts";
