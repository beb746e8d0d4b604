/**
 * @module
 * Builds the `cdc_transformation` job from the registry's dependencies: the shared view store for
 * summaries and late counts, and its own Cassandra client for `users_dim` (the view store keeps
 * its client to itself). {@link CdcJobHandle.close} shuts that client down.
 */
import { createCassandraClient } from "../../../shared/cassandra.ts";
import type { JobDeps } from "../registry.ts";
import type { JobDefinition } from "../../runtime/task.ts";
import { cdcTransformationJob } from "./cdc_job.ts";
import { cassandraUserDimStore } from "./user_dim.ts";

/** A job definition that owns connections. */
export interface CdcJobHandle extends JobDefinition {
  /** Releases the job's own connections (call at shutdown). */
  close(): Promise<void>;
}

/** The production `cdc_transformation` job. */
export function cdcJobFromDeps(d: JobDeps): CdcJobHandle {
  const client = createCassandraClient(d.config);
  const job = cdcTransformationJob(d.config, {
    viewStore: d.store,
    dims: cassandraUserDimStore(client),
    log: d.log.child({ job: "cdc_transformation" }),
    metrics: d.metrics,
  });
  return Object.assign(job, { close: () => client.shutdown() });
}
