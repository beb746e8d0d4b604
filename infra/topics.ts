/**
 * @module
 * Creates the platform's Kafka topics idempotently: every input topic of CONTRACTS.md §2 (names
 * from the configuration), its dead-letter topic `<topic>.dlq`, and `enriched_events`.
 */

import type { Kafka } from "kafkajs";
import { dlqTopic, type ResolvedConfig, TOPIC_KEYS } from "../shared/config.ts";
import { createKafka } from "../shared/kafka.ts";

/** The output topic of the `data_enrichment` job. */
export const ENRICHED_TOPIC = "enriched_events";

/** The part of the configuration topic creation needs. */
export type TopicsConfig = Pick<
  ResolvedConfig,
  "kafkaBrokers" | "logLevel" | "topics" | "topicPartitions"
>;

/** Options of {@linkcode ensureTopics}. */
export interface EnsureTopicsOptions {
  /** Partitions of every created topic; default `cfg.topicPartitions` (6). */
  partitions?: number;
  /** Replication factor of created topics; default 1 (the local single broker). */
  replicationFactor?: number;
  /** Name of the enrichment output topic; default {@linkcode ENRICHED_TOPIC}. */
  enrichedTopic?: string;
  /** A client to use; default a new one (its own log is off: failures are thrown). */
  kafka?: Kafka;
}

/** What {@linkcode ensureTopics} found and did. */
export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
}

async function untilLeaderAnswers(
  probe: () => Promise<unknown>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await probe();
      return;
    } catch (e) {
      const retriable = (e as { retriable?: boolean }).retriable === true;
      if (!retriable || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Every topic the platform uses, in a stable order: input topics, their DLQs, enriched. */
export function platformTopics(
  cfg: Pick<ResolvedConfig, "topics">,
  enrichedTopic = ENRICHED_TOPIC,
): string[] {
  const inputs = TOPIC_KEYS.map((k) => cfg.topics[k]);
  return [...inputs, ...inputs.map(dlqTopic), enrichedTopic];
}

/**
 * Creates every platform topic that does not exist yet (existing topics are left as they are) and
 * waits until the new ones have leaders.
 * @throws {RangeError} when `partitions` or `replicationFactor` is not a positive integer
 */
export async function ensureTopics(
  cfg: TopicsConfig,
  opts: EnsureTopicsOptions = {},
): Promise<EnsureTopicsResult> {
  const partitions = opts.partitions ?? cfg.topicPartitions;
  const replicationFactor = opts.replicationFactor ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(
      `Cannot create topics: 'partitions' must be an integer >= 1, got ${partitions}`,
    );
  }
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new RangeError(
      `Cannot create topics: 'replicationFactor' must be an integer >= 1, got ${replicationFactor}`,
    );
  }
  const wanted = platformTopics(cfg, opts.enrichedTopic);
  const admin = (opts.kafka ?? createKafka(cfg, "edu-lambda-migrate", { logLevel: "nothing" }))
    .admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !present.has(t));
    if (missing.length > 0) {
      // kafkajs ignores TOPIC_ALREADY_EXISTS, so a concurrent creator is not an error.
      await admin.createTopics({
        waitForLeaders: true,
        timeout: 30_000,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor,
          // A dead letter is the original record plus headers: leave room above the input limit
          // (as infra/k8s/kafka/topics.yaml does).
          ...(topic.endsWith(".dlq")
            ? { configEntries: [{ name: "max.message.bytes", value: "2097152" }] }
            : {}),
        })),
      });
      // waitForLeaders only checks metadata; the broker may still answer NOT_LEADER for a moment
      // (and kafkajs retries a whole produce request, duplicating the partitions that succeeded).
      // ListOffsets is served by each partition's leader: once it answers, produce works.
      for (const topic of missing) await untilLeaderAnswers(() => admin.fetchTopicOffsets(topic));
    }
    return { created: missing, existing: wanted.filter((t) => present.has(t)) };
  } finally {
    await admin.disconnect();
  }
}
