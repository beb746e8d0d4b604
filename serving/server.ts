/**
 * @module
 * The serving layer wired to its real stores: Parquet batch views under OUTPUTS_DIR, realtime
 * views in Cassandra, the schema additions (serving/ext) and the dashboard (serving/dashboard),
 * readiness probes and metrics. `main.ts` serves it; tests and benchmarks start it in process.
 */
import type { Client } from "cassandra-driver";
import { createCassandraClient } from "../shared/cassandra.ts";
import type { ResolvedConfig } from "../shared/config.ts";
import type { Logger } from "../shared/log.ts";
import { processMetrics, Registry } from "../shared/metrics.ts";
import { createServingApp, type ServingApp } from "./app.ts";
import { createDashboard } from "./dashboard/mod.ts";
import { cassandraExtStore, createExtResolvers, extTypeDefs } from "./ext/mod.ts";
import { createMergeEngine, type MergeEngine } from "./merge/engine.ts";
import { CassandraRealtimeStore } from "./stores/cassandra/realtime_store.ts";
import { ParquetBatchStore } from "./stores/parquet/batch_store.ts";

/** Options of {@link createServing}. */
export interface ServingOptions {
  logger: Logger;
  /** A Cassandra client bound to the keyspace; default one from the configuration. */
  cassandra?: Client;
  /** Mount the dashboard at `/`; default true. */
  dashboard?: boolean;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

/** A wired serving layer. */
export interface Serving extends ServingApp {
  engine: MergeEngine;
  batch: ParquetBatchStore;
  realtime: CassandraRealtimeStore;
  metrics: Registry;
  /** Closes the clients this created. */
  close(): Promise<void>;
}

/**
 * Builds the serving layer from the resolved configuration.
 * @param cfg the configuration (CONTRACTS.md §1 plus serving settings)
 * @param options logger, clients, switches
 */
export function createServing(cfg: ResolvedConfig, options: ServingOptions): Serving {
  const { logger } = options;
  const ownClient = options.cassandra === undefined;
  const client = options.cassandra ?? createCassandraClient(cfg, { readTimeoutMs: 5000 });
  const batch = new ParquetBatchStore({ outputsDir: cfg.outputsDir, logger });
  const realtime = new CassandraRealtimeStore(client, {
    consumerGroup: cfg.consumerGroup,
    cacheMs: cfg.realtimeCacheMs,
    idlePartitionMs: cfg.idlePartitionMs,
    ...(options.now ? { now: options.now } : {}),
  });
  const engine = createMergeEngine({
    batch,
    realtime,
    retentionMs: cfg.realtimeTtlSeconds * 1000,
    onRealtimeError: (error) =>
      logger.error("realtime status unreadable; answering without it", { error }),
    ...(options.now ? { now: options.now } : {}),
  });
  const metrics = new Registry();
  processMetrics(metrics);
  const dashboard = options.dashboard === false
    ? null
    : createDashboard(cfg, { logger, cassandra: client });
  const served = createServingApp({
    engine,
    config: cfg,
    logger,
    metrics,
    probes: [
      { name: "cassandra", check: () => realtime.probe() },
      { name: "batchManifest", check: () => batch.probe() },
    ],
    graphql: {
      extensions: [{
        typeDefs: extTypeDefs,
        resolvers: createExtResolvers(cassandraExtStore(client), {
          realtimeTtlSeconds: cfg.realtimeTtlSeconds,
        }),
      }],
    },
    routes: dashboard ? [dashboard.routes] : [],
  });
  return {
    ...served,
    engine,
    batch,
    realtime,
    metrics,
    async close() {
      await dashboard?.close().catch(() => {});
      if (ownClient) await client.shutdown().catch(() => {});
    },
  };
}
