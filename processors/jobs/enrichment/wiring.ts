/**
 * @module
 * Builds the `data_enrichment` job from the registry's dependencies: its own Cassandra client for
 * `users_dim`, a Kafka client for the transactional sink, and the settings of the resolved
 * configuration (`TOPIC_ENRICHED`, `ENRICH_*`; {@link enrichmentSettings}).
 * {@link EnrichmentJobHandle.close} releases both clients.
 */
import { createCassandraClient } from "../../../shared/cassandra.ts";
import { createKafka } from "../../../shared/kafka.ts";
import type { JobDefinition } from "../../runtime/task.ts";
import { cassandraUserDimStore } from "../cdc/user_dim.ts";
import type { JobDeps } from "../registry.ts";
import {
  dataEnrichmentJob,
  type EnrichmentSettings,
  enrichmentSettings,
} from "./enrichment_job.ts";
import { kafkaEnrichedSink } from "./kafka_sink.ts";

/** A job definition that owns connections. */
export interface EnrichmentJobHandle extends JobDefinition {
  /** Releases the job's own connections (call at shutdown). */
  close(): Promise<void>;
}

/**
 * The production `data_enrichment` job.
 * @param settings output topic and thresholds; default those of `d.config`
 */
export function enrichmentJobFromDeps(
  d: JobDeps,
  settings: EnrichmentSettings = enrichmentSettings(d.config),
): EnrichmentJobHandle {
  const client = createCassandraClient(d.config);
  const sink = kafkaEnrichedSink(createKafka(d.config, "data-enrichment"), {
    outputTopic: settings.outputTopic,
    consumerGroup: d.config.consumerGroup,
  });
  const job = dataEnrichmentJob(d.config, {
    dims: cassandraUserDimStore(client),
    sink,
    risk: settings.risk,
    allowedLatenessMs: d.config.allowedLatenessMs,
    log: d.log.child({ job: "data_enrichment" }),
    metrics: d.metrics,
  });
  return Object.assign(job, {
    close: async () => {
      await sink.close();
      await client.shutdown();
    },
  });
}
