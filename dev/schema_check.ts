/**
 * @module
 * Finds columns of `infra/schema.cql` that an existing keyspace lacks. The schema is applied with
 * `CREATE TABLE IF NOT EXISTS`, so a keyspace created by an older version keeps its old tables and
 * the stream processors' writes then fail; `deno task dev` checks this up front and says how to
 * start over instead.
 */
import type { Client } from "cassandra-driver";
import { schemaStatements } from "../infra/schema.ts";

/** A column the schema defines and the keyspace does not have. */
export interface MissingColumn {
  table: string;
  column: string;
}

const TABLE_RE = /^CREATE TABLE IF NOT EXISTS\s+[A-Za-z0-9_]+\.([A-Za-z0-9_]+)\s*\(([\s\S]*)\)/i;

/** Table → column names of the CREATE TABLE statements of a schema text (pure). */
export function schemaColumns(cql: string, keyspace: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const stmt of schemaStatements(cql, keyspace)) {
    const m = TABLE_RE.exec(stmt);
    if (!m) continue;
    const cols: string[] = [];
    for (const line of m[2].split("\n")) {
      const c = /^\s*("?[A-Za-z0-9_]+"?)\s+[A-Za-z]/.exec(line);
      if (!c || /^PRIMARY$/i.test(c[1])) continue;
      cols.push(c[1].replaceAll('"', ""));
    }
    out.set(m[1], cols);
  }
  return out;
}

/**
 * Columns of the schema missing from existing tables of `keyspace` (tables that do not exist yet
 * are not reported: applying the schema creates them).
 * @param client a connected client (any keyspace)
 */
export async function missingColumns(
  client: Client,
  keyspace: string,
  cql: string,
): Promise<MissingColumn[]> {
  const rs = await client.execute(
    "SELECT table_name, column_name FROM system_schema.columns WHERE keyspace_name = ?",
    [keyspace],
    { prepare: true },
  );
  const existing = new Map<string, Set<string>>();
  for (const r of rs.rows) {
    const t = String(r.get("table_name"));
    let s = existing.get(t);
    if (!s) existing.set(t, s = new Set());
    s.add(String(r.get("column_name")));
  }
  const out: MissingColumn[] = [];
  for (const [table, cols] of schemaColumns(cql, keyspace)) {
    const have = existing.get(table);
    if (!have) continue;
    for (const column of cols) if (!have.has(column)) out.push({ table, column });
  }
  return out;
}
