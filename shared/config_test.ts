import assert from "node:assert/strict";
import {
  ConfigError,
  dlqTopic,
  resolveConfig,
  STREAM_JOBS,
  TOPIC_DEFAULTS,
  TOPIC_KEYS,
} from "./config.ts";

/** Asserts that `env` fails with a one-line ConfigError naming `variable` (and the bad value). */
function fails(env: Record<string, string>, variable: string, value?: string): ConfigError {
  let error: unknown;
  try {
    resolveConfig(env);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError, `${JSON.stringify(env)} should fail, got ${error}`);
  assert.equal(error.variable, variable);
  assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
  assert.ok(error.message.includes(variable), error.message);
  if (value !== undefined) assert.ok(error.message.includes(JSON.stringify(value)), error.message);
  return error;
}

Deno.test("defaults match CONTRACTS.md §1 exactly", () => {
  const c = resolveConfig({});
  assert.deepEqual(c.kafkaBrokers, ["localhost:9092"]);
  assert.deepEqual(c.cassandraHosts, ["localhost"]);
  assert.equal(c.cassandraPort, 9042);
  assert.equal(c.cassandraKeyspace, "education_platform");
  assert.equal(c.cassandraLocalDc, "datacenter1");
  assert.equal(c.dataDir, "./data");
  assert.equal(c.outputsDir, "./outputs");
  assert.equal(c.consumerGroup, "speed-layer-group");
  assert.equal(c.port, 8000);
  assert.equal(c.healthPort, 9999);
  assert.equal(c.logLevel, "info");
  assert.deepEqual(c.topics, {
    AUTH: "auth_topic",
    ASSESSMENT: "assessment_topic",
    VIDEO: "video_topic",
    COURSE: "course_topic",
    PROFILE: "profile_topic",
    NOTIFICATION: "notification_topic",
    APP_EVENTS: "topic_app_events",
    CLICKSTREAM: "topic_clickstream",
    CDC: "topic_cdc_changes",
  });
});

Deno.test("internal defaults match DESIGN.md", () => {
  const c = resolveConfig({});
  assert.equal(c.mode, "development");
  assert.equal(c.topicPartitions, 6);
  assert.equal(c.allowedLatenessMs, 600_000);
  assert.equal(c.idlePartitionMs, 30_000);
  assert.equal(c.realtimeTtlSeconds, 259_200);
  assert.equal(c.flushIntervalMs, 250);
  assert.equal(c.maxEventsPerBatch, 10_000);
  assert.deepEqual(c.streamJobs, [...STREAM_JOBS]);
  assert.deepEqual(c.servingTokens, []);
  assert.deepEqual(c.corsOrigins, ["*"]);
  assert.equal(c.realtimeCacheMs, 1000);
  assert.equal(c.requestTimeoutMs, 10_000);
});

Deno.test("enrichment defaults match docs/ENRICHMENT.md", () => {
  const c = resolveConfig({});
  assert.equal(c.enrichedTopic, "enriched_events");
  assert.equal(c.enrichMaxEventsPerMinute, 100);
  assert.equal(c.enrichFailedLogins, 5);
  assert.equal(c.enrichFailedWindowMs, 600_000);
  assert.equal(c.enrichTravelWindowMs, 3_600_000);
  // Blank integers take the default, as before they moved here.
  assert.equal(resolveConfig({ ENRICH_FAILED_LOGINS: " " }).enrichFailedLogins, 5);
});

Deno.test("TOPIC_ENRICHED and ENRICH_* are read", () => {
  const c = resolveConfig({
    TOPIC_ENRICHED: " t_x_enriched_events ",
    ENRICH_MAX_EVENTS_PER_MINUTE: "42",
    ENRICH_FAILED_LOGINS: "3",
    ENRICH_FAILED_WINDOW_MS: "60000",
    ENRICH_TRAVEL_WINDOW_MS: "1",
  });
  assert.equal(c.enrichedTopic, "t_x_enriched_events");
  assert.deepEqual(
    [c.enrichMaxEventsPerMinute, c.enrichFailedLogins, c.enrichFailedWindowMs],
    [42, 3, 60_000],
  );
  assert.equal(c.enrichTravelWindowMs, 1);
});

Deno.test("every variable of §1 is read", () => {
  const c = resolveConfig({
    KAFKA_BOOTSTRAP_SERVERS: "k1:9092, k2:9093",
    CASSANDRA_HOST: "c1,c2",
    CASSANDRA_PORT: "9043",
    CASSANDRA_KEYSPACE: "ks_test",
    CASSANDRA_LOCAL_DC: "dc2",
    DATA_DIR: "/tmp/data",
    OUTPUTS_DIR: "/tmp/out",
    CONSUMER_GROUP: "g2",
    PORT: "8080",
    HEALTH_PORT: "9000",
    LOG_LEVEL: "debug",
  });
  assert.deepEqual(c.kafkaBrokers, ["k1:9092", "k2:9093"]);
  assert.deepEqual(c.cassandraHosts, ["c1", "c2"]);
  assert.equal(c.cassandraPort, 9043);
  assert.equal(c.cassandraKeyspace, "ks_test");
  assert.equal(c.cassandraLocalDc, "dc2");
  assert.equal(c.dataDir, "/tmp/data");
  assert.equal(c.outputsDir, "/tmp/out");
  assert.equal(c.consumerGroup, "g2");
  assert.equal(c.port, 8080);
  assert.equal(c.healthPort, 9000);
  assert.equal(c.logLevel, "debug");
});

Deno.test("KAFKA_BOOTSTRAP_SERVER is an alias; the plural wins when both are set", () => {
  assert.deepEqual(resolveConfig({ KAFKA_BOOTSTRAP_SERVER: "broker:29092" }).kafkaBrokers, [
    "broker:29092",
  ]);
  assert.deepEqual(
    resolveConfig({ KAFKA_BOOTSTRAP_SERVER: "a:1", KAFKA_BOOTSTRAP_SERVERS: "b:2" }).kafkaBrokers,
    ["b:2"],
  );
  fails({ KAFKA_BOOTSTRAP_SERVER: "nope" }, "KAFKA_BOOTSTRAP_SERVER", "nope");
});

Deno.test("TOPIC_<NAME> renames each input topic", () => {
  for (const key of TOPIC_KEYS) {
    const c = resolveConfig({ [`TOPIC_${key}`]: `renamed.${key.toLowerCase()}` });
    assert.equal(c.topics[key], `renamed.${key.toLowerCase()}`);
    for (const other of TOPIC_KEYS) {
      if (other !== key) assert.equal(c.topics[other], TOPIC_DEFAULTS[other]);
    }
  }
  assert.equal(resolveConfig({ TOPIC_VIDEO: "video_events" }).topics.VIDEO, "video_events");
  assert.equal(dlqTopic("video_events"), "video_events.dlq");
});

Deno.test("two topics renamed to the same name fail", () => {
  fails({ TOPIC_VIDEO: "auth_topic" }, "TOPIC_VIDEO", "auth_topic");
});

Deno.test("each malformed variable fails with a one-line message naming it", () => {
  const cases: [string, string][] = [
    ["KAFKA_BOOTSTRAP_SERVERS", "localhost"],
    ["KAFKA_BOOTSTRAP_SERVERS", "localhost:99999"],
    ["KAFKA_BOOTSTRAP_SERVERS", "a:1,b"],
    ["KAFKA_BOOTSTRAP_SERVERS", ""],
    ["KAFKA_BOOTSTRAP_SERVERS", " , "],
    ["CASSANDRA_HOST", ""],
    ["CASSANDRA_HOST", ","],
    ["CASSANDRA_PORT", "abc"],
    ["CASSANDRA_PORT", "0"],
    ["CASSANDRA_PORT", "65536"],
    ["CASSANDRA_PORT", "90.42"],
    ["CASSANDRA_KEYSPACE", "bad-keyspace"],
    ["CASSANDRA_KEYSPACE", "1starts_with_digit"],
    ["CASSANDRA_KEYSPACE", " "],
    ["CASSANDRA_LOCAL_DC", ""],
    ["DATA_DIR", ""],
    ["OUTPUTS_DIR", "  "],
    ["CONSUMER_GROUP", ""],
    ["PORT", "http"],
    ["PORT", "-1"],
    ["PORT", "70000"],
    ["HEALTH_PORT", "1e3"],
    ["LOG_LEVEL", "verbose"],
    ["TOPIC_AUTH", ""],
    ["TOPIC_VIDEO", "bad topic"],
    ["TOPIC_CDC", "x".repeat(201)],
    ["TOPIC_PARTITIONS", "0"],
    ["APP_ENV", "staging"],
    ["ALLOWED_LATENESS_MS", "-5"],
    ["IDLE_PARTITION_MS", "ten"],
    ["REALTIME_TTL_SECONDS", "10"],
    ["FLUSH_INTERVAL_MS", "0"],
    ["MAX_EVENTS_PER_BATCH", "0"],
    ["STREAM_JOBS", "video_views,bogus"],
    ["STREAM_JOBS", ""],
    ["DISABLED_JOBS", "nope"],
    ["REALTIME_CACHE_MS", "5000"],
    ["REQUEST_TIMEOUT_MS", "1"],
    ["TOPIC_ENRICHED", ""],
    ["TOPIC_ENRICHED", "enriched events"],
    ["TOPIC_ENRICHED", "x".repeat(201)],
    ["ENRICH_MAX_EVENTS_PER_MINUTE", "0"],
    ["ENRICH_MAX_EVENTS_PER_MINUTE", "lots"],
    ["ENRICH_FAILED_LOGINS", "zero"],
    ["ENRICH_FAILED_LOGINS", "-5"],
    ["ENRICH_FAILED_WINDOW_MS", "1.5"],
    ["ENRICH_FAILED_WINDOW_MS", "0"],
    ["ENRICH_TRAVEL_WINDOW_MS", "1h"],
    ["ENRICH_TRAVEL_WINDOW_MS", "0"],
  ];
  for (const [variable, value] of cases) fails({ [variable]: value }, variable, value);
});

Deno.test("a value with a newline still gives a one-line message", () => {
  fails({ PORT: "80\n80" }, "PORT", "80\n80");
});

Deno.test("the message names the variable and the value", () => {
  const e = fails({ CASSANDRA_PORT: "abc" }, "CASSANDRA_PORT", "abc");
  assert.equal(e.message, 'Invalid configuration: CASSANDRA_PORT="abc": expected an integer');
  assert.equal(e.name, "ConfigError");
  assert.equal(
    fails({ ENRICH_FAILED_LOGINS: "0" }, "ENRICH_FAILED_LOGINS", "0").message,
    'Invalid configuration: ENRICH_FAILED_LOGINS="0": expected an integer ≥ 1',
  );
});

Deno.test("production requires SERVING_TOKENS", () => {
  const e = fails({ APP_ENV: "production" }, "SERVING_TOKENS");
  assert.ok(e.message.includes("(unset)"));
  fails({ APP_ENV: "production", SERVING_TOKENS: " , " }, "SERVING_TOKENS", " , ");
  const c = resolveConfig({ APP_ENV: "production", SERVING_TOKENS: "t1, t2" });
  assert.equal(c.mode, "production");
  assert.deepEqual(c.servingTokens, ["t1", "t2"]);
  assert.deepEqual(c.corsOrigins, []);
});

Deno.test("stream jobs: STREAM_JOBS selects, DISABLED_JOBS removes", () => {
  assert.deepEqual(resolveConfig({ STREAM_JOBS: "video_views, archiver" }).streamJobs, [
    "video_views",
    "archiver",
  ]);
  assert.deepEqual(
    resolveConfig({ DISABLED_JOBS: "archiver" }).streamJobs,
    STREAM_JOBS.filter((j) => j !== "archiver"),
  );
});

Deno.test("enumerated values are case-insensitive and integers may be padded", () => {
  const c = resolveConfig({ LOG_LEVEL: "WARN", APP_ENV: " Test ", PORT: " 8001 " });
  assert.equal(c.logLevel, "warn");
  assert.equal(c.mode, "test");
  assert.equal(c.port, 8001);
});

Deno.test("IPv6 brokers and port 0 (any free port) are accepted", () => {
  assert.deepEqual(resolveConfig({ KAFKA_BOOTSTRAP_SERVERS: "[::1]:9092" }).kafkaBrokers, [
    "[::1]:9092",
  ]);
  assert.equal(resolveConfig({ PORT: "0" }).port, 0);
});
