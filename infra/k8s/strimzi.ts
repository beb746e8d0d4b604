/**
 * @module
 * Strimzi's `KafkaTopic` (kafka.strimzi.io/v1beta2), which kubernetes-models does not ship: the
 * type (used for the strict type check of rendered manifests) and a validator written from the
 * CRD's OpenAPI schema (spec: topicName string, partitions integer ≥ 1, replicas integer
 * 1..32767, config object of string/number/boolean values) plus what the topic operator needs:
 * the `strimzi.io/cluster` label, a DNS-1123 resource name and a legal Kafka topic name.
 */

/** Spec of a KafkaTopic. */
export interface KafkaTopicSpec {
  /** The Kafka topic name when it differs from metadata.name (e.g. contains "_"). */
  topicName?: string;
  partitions?: number;
  replicas?: number;
  config?: Record<string, string | number | boolean | string[]>;
}

/** A Strimzi KafkaTopic resource. */
export interface IKafkaTopic {
  apiVersion: "kafka.strimzi.io/v1beta2";
  kind: "KafkaTopic";
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: KafkaTopicSpec;
}

/** Topic-level configs of Apache Kafka 3.x (kafka-configs.sh --entity-type topics). */
export const KAFKA_TOPIC_CONFIGS: ReadonlySet<string> = new Set([
  "cleanup.policy",
  "compression.type",
  "delete.retention.ms",
  "file.delete.delay.ms",
  "flush.messages",
  "flush.ms",
  "follower.replication.throttled.replicas",
  "index.interval.bytes",
  "leader.replication.throttled.replicas",
  "local.retention.bytes",
  "local.retention.ms",
  "max.compaction.lag.ms",
  "max.message.bytes",
  "message.timestamp.after.max.ms",
  "message.timestamp.before.max.ms",
  "message.timestamp.type",
  "min.cleanable.dirty.ratio",
  "min.compaction.lag.ms",
  "min.insync.replicas",
  "preallocate",
  "remote.storage.enable",
  "retention.bytes",
  "retention.ms",
  "segment.bytes",
  "segment.index.bytes",
  "segment.jitter.ms",
  "segment.ms",
  "unclean.leader.election.enable",
]);

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KAFKA_TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const INTEGER_CONFIGS = new Set([
  "retention.ms",
  "retention.bytes",
  "min.insync.replicas",
  "max.message.bytes",
  "segment.bytes",
  "segment.ms",
  "delete.retention.ms",
]);

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v);
}

/** The Kafka topic a KafkaTopic resource manages. */
export function kafkaTopicName(t: IKafkaTopic): string {
  return t.spec.topicName ?? t.metadata.name;
}

/**
 * Validates a KafkaTopic object.
 * @param obj the parsed object
 * @param cluster the expected `strimzi.io/cluster` label; default `kafka-cluster`
 * @returns the problems found, empty when valid
 */
export function validateKafkaTopic(obj: unknown, cluster = "kafka-cluster"): string[] {
  const errs: string[] = [];
  const o = obj as Partial<IKafkaTopic> & Record<string, unknown>;
  if (o.apiVersion !== "kafka.strimzi.io/v1beta2") {
    errs.push(`apiVersion must be kafka.strimzi.io/v1beta2`);
  }
  if (o.kind !== "KafkaTopic") errs.push(`kind must be KafkaTopic`);
  for (const k of Object.keys(o)) {
    if (!["apiVersion", "kind", "metadata", "spec"].includes(k)) errs.push(`unknown field ${k}`);
  }
  const m = o.metadata;
  if (!m || typeof m.name !== "string") return [...errs, "metadata.name is required"];
  if (m.name.length > 253 || !DNS1123_SUBDOMAIN.test(m.name)) {
    errs.push(`metadata.name ${JSON.stringify(m.name)} is not a DNS-1123 subdomain`);
  }
  if (m.labels?.["strimzi.io/cluster"] !== cluster) {
    errs.push(`label strimzi.io/cluster must be ${JSON.stringify(cluster)}`);
  }
  const s = o.spec as Record<string, unknown> | undefined;
  if (!s || typeof s !== "object") return [...errs, "spec is required"];
  for (const k of Object.keys(s)) {
    if (!["topicName", "partitions", "replicas", "config"].includes(k)) {
      errs.push(`unknown field spec.${k}`);
    }
  }
  const name = s.topicName ?? m.name;
  if (typeof name !== "string" || !KAFKA_TOPIC_NAME.test(name) || name === "." || name === "..") {
    errs.push(`topic name ${JSON.stringify(name)} is not a legal Kafka topic name`);
  }
  if (s.partitions !== undefined && !(isInt(s.partitions) && s.partitions >= 1)) {
    errs.push(`spec.partitions must be an integer ≥ 1`);
  }
  if (s.replicas !== undefined && !(isInt(s.replicas) && s.replicas >= 1 && s.replicas <= 32767)) {
    errs.push(`spec.replicas must be an integer in 1..32767`);
  }
  if (s.config !== undefined) {
    if (typeof s.config !== "object" || s.config === null || Array.isArray(s.config)) {
      errs.push(`spec.config must be an object`);
    } else {
      for (const [k, v] of Object.entries(s.config)) {
        if (!KAFKA_TOPIC_CONFIGS.has(k)) errs.push(`spec.config: unknown topic config ${k}`);
        if (!["string", "number", "boolean"].includes(typeof v)) {
          errs.push(`spec.config.${k} must be a string, number or boolean`);
        } else if (INTEGER_CONFIGS.has(k) && !/^-?\d+$/.test(String(v))) {
          errs.push(`spec.config.${k} must be an integer, got ${JSON.stringify(v)}`);
        }
      }
      const minIsr = Number(s.config["min.insync.replicas" as keyof typeof s.config] ?? 1);
      if (isInt(s.replicas) && minIsr > s.replicas) {
        errs.push(`min.insync.replicas ${minIsr} exceeds replicas ${s.replicas}`);
      }
    }
  }
  return errs;
}
