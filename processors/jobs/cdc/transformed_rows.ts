/**
 * @module
 * The `cdc_transformed` Parquet output: one row per record of the CDC topic (every change, every
 * tombstone, and records the job rejected), under
 * `OUTPUTS_DIR/cdc_transformed/date=<event date>/p<partition>-<first>-<last>.parquet`.
 */
import type { Rejection } from "../../../shared/events.ts";
import { isoDate } from "../../../shared/time.ts";
import type { Change } from "./change.ts";
import type { Column } from "./offset_files.ts";
import { positionText } from "./position.ts";
import type { Applied } from "./transformer.ts";

/** Folder of the output below `OUTPUTS_DIR`. */
export const CDC_TRANSFORMED_DIR = "cdc_transformed";

/** One row of `cdc_transformed`. */
export interface TransformedRow {
  partition: number;
  offset: number;
  kafkaTs: number;
  /** Event time (payload `ts_ms`; a tombstone's Kafka timestamp), epoch ms. */
  eventTime: number;
  date: string;
  table: string | null;
  /** Debezium op code (c, u, d, r, t); null for tombstones and rejected records. */
  op: string | null;
  /** INSERT, UPDATE, DELETE, SNAPSHOT, TRUNCATE, TOMBSTONE or REJECTED. */
  kind: string;
  /** Row key as canonical JSON. */
  key: string | null;
  /** The key's id (the user id for `users`). */
  entityId: string | null;
  before: string | null;
  after: string | null;
  /** Changed fields of an update, as a JSON array. */
  changedFields: string | null;
  sourceTsMs: number | null;
  tsMs: number | null;
  position: string | null;
  /** Cassandra write timestamp (µs) of the row state it produced, if any. */
  writeTs: number | null;
  duplicate: boolean;
  stale: boolean;
  late: boolean;
  /** Rejection reason and field (`reason:field`) of a REJECTED record. */
  error: string | null;
  /** The original message value (REJECTED records only, to keep them inspectable). */
  raw: string | null;
}

const c = (
  name: string,
  field: keyof TransformedRow & string,
  type: Column<TransformedRow>["type"],
  nullable = true,
): Column<TransformedRow> => ({ name, field, type, nullable });

/** Columns of `cdc_transformed`, in file order. */
export const TRANSFORMED_COLUMNS: readonly Column<TransformedRow>[] = [
  c("partition", "partition", "int32", false),
  c("offset", "offset", "int64", false),
  c("kafka_ts", "kafkaTs", "int64", false),
  c("event_time", "eventTime", "int64", false),
  c("date", "date", "utf8", false),
  c("table_name", "table", "utf8"),
  c("op", "op", "utf8"),
  c("op_kind", "kind", "utf8", false),
  c("row_key", "key", "utf8"),
  c("entity_id", "entityId", "utf8"),
  c("before_json", "before", "utf8"),
  c("after_json", "after", "utf8"),
  c("changed_fields", "changedFields", "utf8"),
  c("source_ts_ms", "sourceTsMs", "int64"),
  c("ts_ms", "tsMs", "int64"),
  c("source_position", "position", "utf8"),
  c("write_ts", "writeTs", "int64"),
  c("duplicate", "duplicate", "bool", false),
  c("stale", "stale", "bool", false),
  c("late", "late", "bool", false),
  c("error", "error", "utf8"),
  c("raw", "raw", "utf8"),
];

/** Kafka coordinates of a record. */
export interface RowMeta {
  partition: number;
  offset: number;
  kafkaTs: number;
  eventTime: number;
}

/** The row of an accepted change (or tombstone). */
export function transformedRow(change: Change, applied: Applied, meta: RowMeta): TransformedRow {
  const tomb = change.kind === "TOMBSTONE";
  return {
    ...meta,
    date: isoDate(meta.eventTime),
    table: change.table,
    op: change.op,
    kind: change.kind,
    key: change.keyText,
    entityId: change.entityId,
    before: change.before ? JSON.stringify(change.before) : null,
    after: change.after ? JSON.stringify(change.after) : null,
    changedFields: change.op === "u" ? JSON.stringify(change.changed) : null,
    sourceTsMs: tomb ? null : change.position.sourceTsMs,
    tsMs: tomb ? null : change.position.tsMs,
    position: tomb ? null : positionText(change.position),
    writeTs: applied.writeTs,
    duplicate: applied.duplicate,
    stale: applied.stale,
    late: applied.late,
    error: null,
    raw: null,
  };
}

/** The row of a record the job rejected. */
export function rejectedRow(
  rejection: Rejection,
  raw: string | null,
  key: string | null,
  meta: RowMeta,
): TransformedRow {
  return {
    ...meta,
    date: isoDate(meta.eventTime),
    table: null,
    op: null,
    kind: "REJECTED",
    key,
    entityId: null,
    before: null,
    after: null,
    changedFields: null,
    sourceTsMs: null,
    tsMs: null,
    position: null,
    writeTs: null,
    duplicate: false,
    stale: false,
    late: false,
    error: `${rejection.reason}:${rejection.field}`,
    raw,
  };
}
