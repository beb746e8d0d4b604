/**
 * @module
 * Realtime view storage: table descriptions, row writes, the Cassandra store and an in-memory one.
 */
export {
  CassandraViewStore,
  type CassandraViewStoreOptions,
  statementsFor,
} from "./cassandra_store.ts";
export { MemoryViewStore } from "./memory_store.ts";
export { WorkerViewStore, type WorkerViewStoreOptions } from "./worker_store.ts";
export {
  APP_EVENT_COUNTS,
  ASSESSMENT_SCORES,
  CLICKSTREAM_SESSIONS,
  type Column,
  columnsOf,
  COURSE_ENGAGEMENT,
  type CqlType,
  EVENTS_AGGREGATED,
  keyLength,
  LATE_EVENTS,
  NOTIFICATION_FUNNEL,
  type TableSpec,
  USER_ACTIVITY,
  VIDEO_VIEWS,
  VIEW_TABLES,
} from "./tables.ts";
export type { RowWrite, ViewStore } from "./view_store.ts";
