/**
 * @module
 * The cassandra-driver client factory (protocol v4, the configured port and data centre) and a
 * prepared-statement helper.
 */

import { Buffer } from "node:buffer";
import {
  Client,
  type ClientOptions,
  policies,
  type QueryOptions,
  type types,
} from "cassandra-driver";
import type { ResolvedConfig } from "./config.ts";

/** The part of the configuration a Cassandra client needs. */
export type CassandraClientConfig = Pick<
  ResolvedConfig,
  "cassandraHosts" | "cassandraPort" | "cassandraKeyspace" | "cassandraLocalDc"
>;

/** Options of {@linkcode createCassandraClient}. */
export interface CassandraClientOptions {
  /** Connect to `cfg.cassandraKeyspace` (default true); false for DDL that creates it. */
  keyspace?: boolean;
  /** Per-request read time-out; default 12000 ms (above the server's 10 s request time-outs). */
  readTimeoutMs?: number;
  /** Connect time-out; default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * Longest wait between reconnection attempts to a host that went down (exponential from 500 ms);
   * default 10000 ms, so writers recover within seconds of Cassandra coming back (the driver's own
   * default grows to 10 minutes).
   */
  maxReconnectDelayMs?: number;
}

/**
 * Creates a (not yet connected) Cassandra client; it connects on first use or `connect()`.
 * Call `shutdown()` when done.
 * @param cfg contact points, port, keyspace and local data centre
 */
export function createCassandraClient(
  cfg: CassandraClientConfig,
  opts: CassandraClientOptions = {},
): Client {
  const options: ClientOptions = {
    contactPoints: cfg.cassandraHosts,
    localDataCenter: cfg.cassandraLocalDc,
    protocolOptions: { port: Number(cfg.cassandraPort), maxVersion: 4 },
    socketOptions: {
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      readTimeout: opts.readTimeoutMs ?? 12_000,
    },
    queryOptions: { prepare: true },
    policies: {
      reconnection: new policies.reconnection.ExponentialReconnectionPolicy(
        500,
        opts.maxReconnectDelayMs ?? 10_000,
        false,
      ),
    },
  };
  if (opts.keyspace !== false) options.keyspace = cfg.cassandraKeyspace;
  return new Client(options);
}

/** A prepared CQL statement bound to a client. */
export interface Prepared {
  /** The CQL text. */
  readonly query: string;
  /**
   * Executes with positional parameters (prepared on first use, cached by the driver). A
   * `Uint8Array` parameter is passed as a `Buffer`, which the driver requires for blobs.
   */
  execute(params?: unknown[], options?: QueryOptions): Promise<types.ResultSet>;
}

/**
 * Binds a CQL statement to a client as a prepared statement.
 * @example
 * ```ts
 * const insert = prepare(client, "INSERT INTO t (k, v) VALUES (?, ?)");
 * await insert.execute(["a", 1]);
 * ```
 */
export function prepare(client: Client, query: string): Prepared {
  return {
    query,
    execute: (params = [], options = {}) =>
      client.execute(query, params.map(toDriverValue), { ...options, prepare: true }),
  };
}

function toDriverValue(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v)
    ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
    : v;
}
