/**
 * @module
 * Configuration of CONTRACTS.md §1, resolved once from the environment. Read `Deno.env` only in
 * `main.ts` files and pass the resolved object down.
 */

/** Input topics: the `TOPIC_<NAME>` suffix and the default topic name. */
export const TOPIC_DEFAULTS = {
  AUTH: "auth_topic",
  ASSESSMENT: "assessment_topic",
  VIDEO: "video_topic",
  COURSE: "course_topic",
  PROFILE: "profile_topic",
  NOTIFICATION: "notification_topic",
  APP_EVENTS: "topic_app_events",
  CLICKSTREAM: "topic_clickstream",
  CDC: "topic_cdc_changes",
} as const;

/** A logical topic, by its `TOPIC_` suffix. */
export type TopicKey = keyof typeof TOPIC_DEFAULTS;
export const TOPIC_KEYS = Object.keys(TOPIC_DEFAULTS) as TopicKey[];

/** Stream jobs of CONTRACTS.md §3. */
export const STREAM_JOBS = [
  "event_aggregation",
  "clickstream_analysis",
  "data_enrichment",
  "cdc_transformation",
  "user_activity",
  "course_engagement",
  "assessment_scores",
  "video_views",
  "notifications",
  "archiver",
] as const;
export type StreamJob = typeof STREAM_JOBS[number];

/** Batch jobs of CONTRACTS.md §3. */
export const BATCH_JOBS = [
  "hourly_aggregate",
  "daily_summary",
  "user_segmentation",
  "views",
] as const;
export type BatchJob = typeof BATCH_JOBS[number];

export type LogLevel = "debug" | "info" | "warn" | "error";
export type AppMode = "development" | "production" | "test";

/** Everything resolved, with defaults applied. */
export interface ResolvedConfig {
  kafkaBrokers: string[];
  cassandraHosts: string[];
  cassandraPort: number;
  cassandraKeyspace: string;
  cassandraLocalDc: string;
  dataDir: string;
  outputsDir: string;
  consumerGroup: string;
  port: number;
  healthPort: number;
  logLevel: LogLevel;
  /** Logical topic → actual Kafka topic name. */
  topics: Record<TopicKey, string>;
  /** Partitions per input topic when the platform creates topics (`TOPIC_PARTITIONS`, default 6). */
  topicPartitions: number;
  /** `APP_ENV`: development (default), production or test. */
  mode: AppMode;
  /** `ALLOWED_LATENESS_MS`, default 600000 (10 minutes). */
  allowedLatenessMs: number;
  /** `IDLE_PARTITION_MS`, default 30000. */
  idlePartitionMs: number;
  /** `REALTIME_TTL_SECONDS`, default 259200 (72 h). */
  realtimeTtlSeconds: number;
  /** `FLUSH_INTERVAL_MS`, default 250. */
  flushIntervalMs: number;
  /** `MAX_EVENTS_PER_BATCH` (the seed's maxOffsetsPerTrigger), default 10000. */
  maxEventsPerBatch: number;
  /** Enabled stream jobs: `STREAM_JOBS` (comma list, default all) minus `DISABLED_JOBS`. */
  streamJobs: StreamJob[];
  /** `SERVING_TOKENS`: comma-separated bearer tokens; required when mode is production. */
  servingTokens: string[];
  /** `CORS_ORIGINS`: comma-separated, default `*` in development, none in production. */
  corsOrigins: string[];
  /** `REALTIME_CACHE_MS`: serving cache of realtime reads, default 1000 (at most). */
  realtimeCacheMs: number;
  /** `REQUEST_TIMEOUT_MS`: serving request time-out, default 10000. */
  requestTimeoutMs: number;
  /** `TOPIC_ENRICHED`: the `data_enrichment` job's output topic, default `enriched_events`. */
  enrichedTopic: string;
  /**
   * `ENRICH_MAX_EVENTS_PER_MINUTE`, default 100: a user's events in one UTC minute beyond this
   * are flagged `high_event_volume`.
   */
  enrichMaxEventsPerMinute: number;
  /** `ENRICH_FAILED_LOGINS`, default 5: failed logins in the window that flag `failed_login_burst`. */
  enrichFailedLogins: number;
  /** `ENRICH_FAILED_WINDOW_MS`, default 600000 (10 minutes): the failed-login window. */
  enrichFailedWindowMs: number;
  /**
   * `ENRICH_TRAVEL_WINDOW_MS`, default 3600000 (1 hour): two countries closer than this flag
   * `impossible_travel`.
   */
  enrichTravelWindowMs: number;
}

/** A setting that is missing or malformed; the message is one line naming the variable. */
export class ConfigError extends Error {
  constructor(readonly variable: string, readonly value: string | undefined, detail: string) {
    super(
      `Invalid configuration: ${variable}=${
        value === undefined ? "(unset)" : JSON.stringify(value)
      }: ${detail}`,
    );
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function list(env: Env, name: string, fallback: string): string[] {
  const raw = env[name] ?? fallback;
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new ConfigError(name, raw, "expected a comma-separated list");
  return items;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, raw, "expected an integer");
  const n = Number(raw.trim());
  if (n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
    throw new ConfigError(name, raw, `expected an integer ${range}`);
  }
  return n;
}

/** A positive integer without a practical upper bound (`ENRICH_*`). */
function positive(env: Env, name: string, fallback: number): number {
  return int(env, name, fallback, 1, Number.MAX_SAFE_INTEGER);
}

/** Kafka topic names (CONTRACTS.md §1 `TOPIC_<NAME>`, and `TOPIC_ENRICHED`). */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,200}$/;

function nonEmpty(env: Env, name: string, fallback: string, pattern?: RegExp): string {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const v = raw.trim();
  if (v === "") throw new ConfigError(name, raw, "must not be empty");
  if (pattern && !pattern.test(v)) throw new ConfigError(name, raw, `must match ${pattern}`);
  return v;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, values: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = raw.trim().toLowerCase() as T;
  if (!values.includes(v)) throw new ConfigError(name, raw, `expected one of ${values.join(", ")}`);
  return v;
}

function hostPorts(name: string, raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new ConfigError(name, raw, "expected host:port[,host:port]");
  for (const item of items) {
    const m = /^([A-Za-z0-9._-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(item);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new ConfigError(name, raw, `expected host:port, got "${item}"`);
    }
  }
  return items;
}

/**
 * Resolves the configuration from an environment map.
 * @param env the environment, e.g. `Deno.env.toObject()`
 * @throws {ConfigError} naming the first variable that is malformed
 */
export function resolveConfig(env: Env): ResolvedConfig {
  const kafkaVar = env.KAFKA_BOOTSTRAP_SERVERS !== undefined
    ? "KAFKA_BOOTSTRAP_SERVERS"
    : env.KAFKA_BOOTSTRAP_SERVER !== undefined
    ? "KAFKA_BOOTSTRAP_SERVER"
    : "KAFKA_BOOTSTRAP_SERVERS";
  const kafkaBrokers = hostPorts(kafkaVar, env[kafkaVar] ?? "localhost:9092");
  const topics = {} as Record<TopicKey, string>;
  for (const key of TOPIC_KEYS) {
    topics[key] = nonEmpty(env, `TOPIC_${key}`, TOPIC_DEFAULTS[key], TOPIC_NAME);
  }
  const seen = new Map<string, TopicKey>();
  for (const key of TOPIC_KEYS) {
    const other = seen.get(topics[key]);
    if (other) {
      throw new ConfigError(`TOPIC_${key}`, topics[key], `same topic as TOPIC_${other}`);
    }
    seen.set(topics[key], key);
  }
  const mode = oneOf<AppMode>(env, "APP_ENV", "development", ["development", "production", "test"]);
  const jobsRaw = list(env, "STREAM_JOBS", STREAM_JOBS.join(","));
  for (const j of jobsRaw) {
    if (!(STREAM_JOBS as readonly string[]).includes(j)) {
      throw new ConfigError("STREAM_JOBS", env.STREAM_JOBS, `unknown job "${j}"`);
    }
  }
  const disabled = (env.DISABLED_JOBS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const j of disabled) {
    if (!(STREAM_JOBS as readonly string[]).includes(j)) {
      throw new ConfigError("DISABLED_JOBS", env.DISABLED_JOBS, `unknown job "${j}"`);
    }
  }
  const servingTokens = (env.SERVING_TOKENS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (mode === "production" && servingTokens.length === 0) {
    throw new ConfigError("SERVING_TOKENS", env.SERVING_TOKENS, "required when APP_ENV=production");
  }
  return {
    kafkaBrokers,
    cassandraHosts: list(env, "CASSANDRA_HOST", "localhost"),
    cassandraPort: int(env, "CASSANDRA_PORT", 9042, 1, 65535),
    cassandraKeyspace: nonEmpty(
      env,
      "CASSANDRA_KEYSPACE",
      "education_platform",
      /^[A-Za-z][A-Za-z0-9_]{0,47}$/,
    ),
    cassandraLocalDc: nonEmpty(env, "CASSANDRA_LOCAL_DC", "datacenter1"),
    dataDir: nonEmpty(env, "DATA_DIR", "./data"),
    outputsDir: nonEmpty(env, "OUTPUTS_DIR", "./outputs"),
    consumerGroup: nonEmpty(env, "CONSUMER_GROUP", "speed-layer-group"),
    port: int(env, "PORT", 8000, 0, 65535),
    healthPort: int(env, "HEALTH_PORT", 9999, 0, 65535),
    logLevel: oneOf<LogLevel>(env, "LOG_LEVEL", "info", ["debug", "info", "warn", "error"]),
    topics,
    topicPartitions: int(env, "TOPIC_PARTITIONS", 6, 1, 1000),
    mode,
    allowedLatenessMs: int(env, "ALLOWED_LATENESS_MS", 600_000, 0, 7 * 86_400_000),
    idlePartitionMs: int(env, "IDLE_PARTITION_MS", 30_000, 100, 86_400_000),
    realtimeTtlSeconds: int(env, "REALTIME_TTL_SECONDS", 259_200, 60, 630_720_000),
    flushIntervalMs: int(env, "FLUSH_INTERVAL_MS", 250, 10, 60_000),
    maxEventsPerBatch: int(env, "MAX_EVENTS_PER_BATCH", 10_000, 1, 10_000_000),
    streamJobs: (jobsRaw as StreamJob[]).filter((j) => !disabled.includes(j)),
    servingTokens,
    corsOrigins: (env.CORS_ORIGINS ?? (mode === "production" ? "" : "*")).split(",").map((s) =>
      s.trim()
    ).filter(Boolean),
    realtimeCacheMs: int(env, "REALTIME_CACHE_MS", 1000, 0, 1000),
    requestTimeoutMs: int(env, "REQUEST_TIMEOUT_MS", 10_000, 100, 600_000),
    enrichedTopic: nonEmpty(env, "TOPIC_ENRICHED", "enriched_events", TOPIC_NAME),
    enrichMaxEventsPerMinute: positive(env, "ENRICH_MAX_EVENTS_PER_MINUTE", 100),
    enrichFailedLogins: positive(env, "ENRICH_FAILED_LOGINS", 5),
    enrichFailedWindowMs: positive(env, "ENRICH_FAILED_WINDOW_MS", 600_000),
    enrichTravelWindowMs: positive(env, "ENRICH_TRAVEL_WINDOW_MS", 3_600_000),
  };
}

/** Reads the process environment and exits with one line on error (for `main.ts` files). */
export function loadConfigOrExit(): ResolvedConfig {
  try {
    return resolveConfig(Deno.env.toObject());
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      Deno.exit(2);
    }
    throw e;
  }
}

/** The DLQ topic of an input topic. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}
