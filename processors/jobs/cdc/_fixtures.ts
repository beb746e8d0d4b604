/**
 * @module
 * Debezium change events in the shapes of Debezium's documentation (PostgreSQL, MySQL, SQL
 * Server), for the unit tests of the CDC and enrichment jobs.
 */

/** A users row. */
export type Row = Record<string, unknown>;

/** Options of {@link pgChange}. */
export interface PgChangeOptions {
  before?: Row | null;
  after?: Row | null;
  /** `source.ts_ms`; default `ts`. */
  sourceTs?: number;
  lsn?: number;
  table?: string;
  /** Wrap as `{schema, payload}` (the JSON converter with schemas enabled). */
  wrapped?: boolean;
}

const PG_SCHEMA = {
  type: "struct",
  name: "dbserver1.public.users.Envelope",
  optional: false,
  fields: [
    { type: "struct", field: "before", optional: true, fields: [] },
    { type: "struct", field: "after", optional: true, fields: [] },
    { type: "struct", field: "source", optional: false, fields: [] },
    { type: "string", field: "op", optional: false },
    { type: "int64", field: "ts_ms", optional: true },
  ],
};

/** A PostgreSQL connector change event value (text). */
export function pgChange(op: "c" | "u" | "d" | "r" | "t", ts: number, o: PgChangeOptions = {}) {
  const payload: Row = {
    source: {
      version: "2.7.3.Final",
      connector: "postgresql",
      name: "dbserver1",
      ts_ms: o.sourceTs ?? ts,
      snapshot: op === "r" ? "true" : "false",
      db: "edu",
      sequence: `["${(o.lsn ?? 1000) - 8}","${o.lsn ?? 1000}"]`,
      schema: "public",
      table: o.table ?? "users",
      txId: 555,
      lsn: o.lsn ?? 1000,
      xmin: null,
    },
    op,
    ts_ms: ts + 3,
    transaction: null,
  };
  if (op !== "t") {
    payload.before = o.before ?? null;
    payload.after = o.after ?? null;
  }
  return JSON.stringify(o.wrapped ? { schema: PG_SCHEMA, payload } : payload);
}

/** A MySQL connector change event value (text), ordered by binlog file, pos and row. */
export function mysqlChange(
  op: "c" | "u" | "d",
  ts: number,
  o: { before?: Row | null; after?: Row | null; file: string; pos: number; row?: number },
) {
  return JSON.stringify({
    before: o.before ?? null,
    after: o.after ?? null,
    source: {
      version: "2.7.3.Final",
      connector: "mysql",
      name: "mysql-server-1",
      ts_ms: ts,
      snapshot: false,
      db: "inventory",
      table: "users",
      server_id: 223344,
      gtid: null,
      file: o.file,
      pos: o.pos,
      row: o.row ?? 0,
      thread: 7,
      query: null,
    },
    op,
    ts_ms: ts + 5,
  });
}

/** A SQL Server connector change event value (text). */
export function sqlServerChange(
  op: "c" | "u" | "d",
  ts: number,
  o: { before?: Row | null; after?: Row | null; commitLsn: string; changeLsn: string },
) {
  return JSON.stringify({
    before: o.before ?? null,
    after: o.after ?? null,
    source: {
      version: "2.7.3.Final",
      connector: "sqlserver",
      name: "server1",
      ts_ms: ts,
      snapshot: false,
      db: "testDB",
      schema: "dbo",
      table: "users",
      change_lsn: o.changeLsn,
      commit_lsn: o.commitLsn,
      event_serial_no: "1",
    },
    op,
    ts_ms: ts + 2,
  });
}

/** The Debezium message key of a users row, optionally with the JSON converter's schema. */
export function userKey(id: string, wrapped = false): string {
  return wrapped
    ? JSON.stringify({
      schema: {
        type: "struct",
        name: "dbserver1.public.users.Key",
        optional: false,
        fields: [{ type: "string", optional: false, field: "id" }],
      },
      payload: { id },
    })
    : JSON.stringify({ id });
}
