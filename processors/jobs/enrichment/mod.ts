/**
 * @module
 * The `data_enrichment` stream job: user events joined with the user dimension, device, country,
 * engagement score and risk flags, to `enriched_events` (Kafka, exactly once for read_committed
 * consumers) and Parquet.
 */
export {
  type CommitPolicy,
  dataEnrichmentJob,
  ENRICHED_TOPICS,
  type EnrichedRollPolicy,
  type EnrichmentJobConfig,
  type EnrichmentJobDeps,
  type EnrichmentSettings,
  enrichmentSettings,
  type EnrichmentSettingsConfig,
} from "./enrichment_job.ts";
export {
  ENRICHED_COLUMNS,
  ENRICHED_DIR,
  type EnrichedEvent,
  type EnrichedMessage,
  type EnrichedRow,
  FLAGS,
  HEADERS,
} from "./enriched.ts";
export {
  kafkaEnrichedSink,
  type KafkaSinkOptions,
  progressGroup,
  transactionalId,
} from "./kafka_sink.ts";
export { type EnrichedSink, MemorySink, type PartitionSink } from "./sink.ts";
export { RISK_FLAGS, type RiskOptions } from "./user_state.ts";
