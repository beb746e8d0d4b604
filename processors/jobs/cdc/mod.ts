/**
 * @module
 * The `cdc_transformation` stream job: Debezium changes of `topic_cdc_changes` into per-table
 * operation summaries, the `users` dimension and the `cdc_transformed` Parquet output.
 */
export {
  CDC_OPERATIONS,
  type CdcJobConfig,
  type CdcJobDeps,
  type CdcRollPolicy,
  cdcTransformationJob,
} from "./cdc_job.ts";
export {
  type Change,
  type ChangeKind,
  decodeKey,
  entityIdOf,
  OP_KINDS,
  type OpCode,
  toChange,
} from "./change.ts";
export { createDimFeed, type DimFeed, type DimListener, processDimFeed } from "./dim_feed.ts";
export {
  comparePositions,
  positionText,
  type SourcePosition,
  sourcePosition,
  writeTimestampUs,
} from "./position.ts";
export {
  CDC_TRANSFORMED_DIR,
  TRANSFORMED_COLUMNS,
  type TransformedRow,
} from "./transformed_rows.ts";
export {
  type AuthWrite,
  cassandraUserDimStore,
  MemoryUserDimStore,
  type ProfileWrite,
  type RiskWrite,
  type UserDim,
  type UserDimStore,
  USERS_TABLE,
} from "./user_dim.ts";
