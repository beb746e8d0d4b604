/**
 * @module
 * The orchestrator (`deno task orchestrate`): a supervisor of the stream processors and a scheduler
 * of the batch jobs for machines without Kubernetes. See docs/ORCHESTRATOR.md.
 */
export {
  BatchScheduler,
  type BatchSchedulerOptions,
  type BatchStatus,
  type RunningRun,
  type TickResult,
} from "./batch_scheduler.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";
export {
  DAILY_BATCH_JOBS,
  HOURLY_BATCH_JOBS,
  type OrchestratorArgs,
  type ResolvedOrchestratorConfig,
  resolveOrchestratorConfig,
} from "./config.ts";
export { createHealthApp, type HealthReport, healthReport, type HealthSources } from "./health.ts";
export {
  FileRunLocks,
  type HeldLocks,
  lockFileName,
  type LockHolder,
  type RunLocks,
} from "./lock.ts";
export { type ChildRecord, ChildRegistry, processStart } from "./orphans.ts";
export {
  type ChildExit,
  type ChildHandle,
  type ChildSpec,
  denoSpawner,
  failureSummary,
  type Spawner,
} from "./process.ts";
export {
  earliestArchivedHour,
  manifestSource,
  type PublishedInfo,
  type PublishedSource,
} from "./published.ts";
export {
  type BatchRunner,
  type BatchRunResult,
  type RunOptions,
  stopChild,
  TaskBatchRunner,
} from "./runner.ts";
export {
  compact,
  dueAt,
  emptyState,
  ensureCursors,
  firstStartOrigin,
  isDone,
  latestDueSlot,
  nextTick,
  type Origin,
  type Plan,
  plan,
  type PlannedRun,
  type Published,
  recordResult,
  recordStart,
  retryDelay,
  type RunOutcome,
  type RunResult,
  type RunSummary,
  SCHEDULE_KINDS,
  type ScheduleKind,
  type ScheduleOptions,
  type SchedulerState,
  slotKey,
  type SlotRecord,
  type SlotStatus,
  stillNeeded,
} from "./scheduler.ts";
export {
  FileStateStore,
  MemoryStateStore,
  STATE_FILE,
  StateFileError,
  type StateStore,
  writeFileAtomic,
} from "./state.ts";
export {
  type StreamState,
  type StreamStatus,
  StreamSupervisor,
  type StreamSupervisorOptions,
} from "./supervisor.ts";
