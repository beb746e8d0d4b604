/**
 * @module
 * Applies `infra/schema.cql` (keyspace and realtime view tables) statement by statement. Every
 * statement is `IF NOT EXISTS`, so applying twice in a row is fine.
 */

import type { Client } from "cassandra-driver";
import { type CassandraClientConfig, createCassandraClient } from "../shared/cassandra.ts";

const SCHEMA_FILE = new URL("./schema.cql", import.meta.url);
const KEYSPACE_RE = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;

/** Options of {@linkcode applySchema}. */
export interface ApplySchemaOptions {
  /** SimpleStrategy replication factor of the keyspace; default 1 (the local single node). */
  replicationFactor?: number;
  /** A client to use (not connected to a keyspace); default a new one, shut down afterwards. */
  client?: Client;
}

/**
 * The statements of a schema text with `{{keyspace}}` and `{{replicationFactor}}` filled in.
 * @throws {RangeError} when the keyspace name or replication factor is invalid
 */
export function schemaStatements(cql: string, keyspace: string, replicationFactor = 1): string[] {
  if (!KEYSPACE_RE.test(keyspace)) {
    throw new RangeError(`Cannot apply schema: invalid keyspace name ${JSON.stringify(keyspace)}`);
  }
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new RangeError(
      `Cannot apply schema: 'replicationFactor' must be an integer >= 1, got ${replicationFactor}`,
    );
  }
  const text = cql.split("\n").filter((l) => !l.trim().startsWith("--")).join("\n")
    .replaceAll("{{keyspace}}", keyspace)
    .replaceAll("{{replicationFactor}}", String(replicationFactor));
  return text.split(";").map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Creates the keyspace `cfg.cassandraKeyspace` and every realtime view table (if missing).
 * @returns the number of statements applied
 */
export async function applySchema(
  cfg: CassandraClientConfig,
  opts: ApplySchemaOptions = {},
): Promise<{ keyspace: string; statements: number }> {
  const statements = schemaStatements(
    await Deno.readTextFile(SCHEMA_FILE),
    cfg.cassandraKeyspace,
    opts.replicationFactor,
  );
  const client = opts.client ??
    createCassandraClient(cfg, { keyspace: false, readTimeoutMs: 60_000 });
  try {
    for (const cql of statements) await client.execute(cql, [], { prepare: false });
  } finally {
    if (!opts.client) await client.shutdown();
  }
  return { keyspace: cfg.cassandraKeyspace, statements: statements.length };
}
