/**
 * @module
 * `deno task migrate`: creates the Kafka topics and the Cassandra schema (idempotent; safe to run
 * again). Optional: `TOPIC_REPLICATION_FACTOR` and `CASSANDRA_REPLICATION_FACTOR` (default 1).
 */

import { ConfigError, loadConfigOrExit } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { applySchema } from "./schema.ts";
import { ensureTopics } from "./topics.ts";

function factor(name: string): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw.trim() === "") return 1;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 15) {
    throw new ConfigError(name, raw, "expected an integer in 1..15");
  }
  return n;
}

if (import.meta.main) {
  const cfg = loadConfigOrExit();
  const log = createLogger({ name: "migrate", level: cfg.logLevel });
  let topicRf: number, cassandraRf: number;
  try {
    topicRf = factor("TOPIC_REPLICATION_FACTOR");
    cassandraRf = factor("CASSANDRA_REPLICATION_FACTOR");
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  try {
    const t0 = Date.now();
    const topics = await ensureTopics(cfg, {
      replicationFactor: topicRf,
      enrichedTopic: cfg.enrichedTopic,
    });
    log.info("topics ensured", {
      brokers: cfg.kafkaBrokers,
      created: topics.created,
      existing: topics.existing.length,
      partitions: cfg.topicPartitions,
      ms: Date.now() - t0,
    });
    const t1 = Date.now();
    const schema = await applySchema(cfg, { replicationFactor: cassandraRf });
    log.info("schema applied", { ...schema, ms: Date.now() - t1 });
    log.info("migrate done", { ms: Date.now() - t0 });
    Deno.exit(0);
  } catch (e) {
    log.error("migrate failed", { error: e });
    Deno.exit(1);
  }
}
