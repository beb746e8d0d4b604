/**
 * @module
 * Test helpers for the real servers: {@linkcode ensureServers} starts or reuses the local Kafka and
 * Cassandra once per process, and {@linkcode isolatedTestEnv} gives each test its own topics,
 * keyspace, consumer group and data directories, so many tests (and developers) can share one
 * running Kafka and Cassandra.
 *
 * Set `EDU_SERVERS=external` to use the servers the environment points to without starting any.
 * Servers started here are left running (`deno task infra:down` stops them); `deno task test`
 * stops the ones it started.
 */

import {
  resolveConfig,
  type ResolvedConfig,
  TOPIC_DEFAULTS,
  TOPIC_KEYS,
} from "../shared/config.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { createKafka } from "../shared/kafka.ts";
import { createLogger } from "../shared/log.ts";
import { ensureLocalServers, type LocalServers } from "../infra/local/mod.ts";
import { applySchema } from "../infra/schema.ts";
import { ENRICHED_TOPIC, ensureTopics, platformTopics } from "../infra/topics.ts";

/** Variables taken over from the process environment: where the servers are, and log level. */
const SERVER_VARS = [
  "KAFKA_BOOTSTRAP_SERVERS",
  "KAFKA_BOOTSTRAP_SERVER",
  "CASSANDRA_HOST",
  "CASSANDRA_PORT",
  "CASSANDRA_LOCAL_DC",
  "LOG_LEVEL",
];

let servers: Promise<LocalServers | undefined> | undefined;

/**
 * Makes sure Kafka and Cassandra accept clients (starting the local ones if needed). Idempotent
 * within a process: later calls return the first call's result.
 */
export function ensureServers(): Promise<LocalServers | undefined> {
  if (Deno.env.get("EDU_SERVERS") === "external") return Promise.resolve(undefined);
  servers ??= ensureLocalServers({
    allowForeign: true,
    log: createLogger({ name: "test-servers", level: "warn" }),
  }).catch((e) => {
    servers = undefined; // let a later test retry
    throw e;
  });
  return servers;
}

/** A short random id: lowercase letters and digits, starting with a letter. */
export function randomId(length = 10): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return "abcdefghijklmnopqrstuvwxyz"[bytes[0] % 26] +
    [...bytes.slice(1)].map((b) => alphabet[b % alphabet.length]).join("");
}

/** Options of {@linkcode isolatedTestEnv}. */
export interface TestEnvOptions {
  /** Run id used in every name; default {@linkcode randomId}(). */
  id?: string;
  /** Extra environment variables (win over the generated ones). */
  env?: Record<string, string>;
}

/** One test's isolated configuration and its setup and clean-up. */
export interface TestEnv {
  id: string;
  /** Environment variables of this configuration (pass to subprocesses such as processors). */
  env: Record<string, string>;
  cfg: ResolvedConfig;
  /** This test's enrichment output topic (`TOPIC_ENRICHED=t_<id>_enriched_events`). */
  enrichedTopic: string;
  /** Temporary directory holding `data/` and `outputs/`. */
  tmpDir: string;
  /** Creates this test's topics and keyspace with tables. */
  setup(): Promise<void>;
  /** Drops the keyspace, deletes the topics and the temporary directory (never throws). */
  cleanup(): Promise<void>;
}

/**
 * An isolated configuration: topics `t_<id>_<default name>` (input topics and `TOPIC_ENRICHED`),
 * keyspace `t_<id>`, consumer group `t_<id>_speed`, `DATA_DIR`/`OUTPUTS_DIR` in a new temporary
 * directory, `APP_ENV=test`. Server addresses come from the process environment (defaults: the
 * local servers).
 */
export function isolatedTestEnv(opts: TestEnvOptions = {}): TestEnv {
  const id = opts.id ?? randomId();
  const tmpDir = Deno.makeTempDirSync({ prefix: `edu-test-${id}-` });
  const env: Record<string, string> = {};
  for (const name of SERVER_VARS) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  for (const key of TOPIC_KEYS) env[`TOPIC_${key}`] = `t_${id}_${TOPIC_DEFAULTS[key]}`;
  Object.assign(env, {
    TOPIC_ENRICHED: `t_${id}_${ENRICHED_TOPIC}`,
    CASSANDRA_KEYSPACE: `t_${id}`,
    CONSUMER_GROUP: `t_${id}_speed`,
    DATA_DIR: `${tmpDir}/data`,
    OUTPUTS_DIR: `${tmpDir}/outputs`,
    APP_ENV: "test",
    ...opts.env,
  });
  const cfg = resolveConfig(env);
  const enrichedTopic = cfg.enrichedTopic;
  return {
    id,
    env,
    cfg,
    enrichedTopic,
    tmpDir,
    async setup() {
      await ensureTopics(cfg, { enrichedTopic });
      await applySchema(cfg);
    },
    async cleanup() {
      const client = createCassandraClient(cfg, { keyspace: false });
      await client.execute(`DROP KEYSPACE IF EXISTS ${cfg.cassandraKeyspace}`).catch(() => {});
      await client.shutdown().catch(() => {});
      const admin = createKafka(cfg, "edu-lambda-test-cleanup", { logLevel: "nothing" }).admin();
      try {
        await admin.connect();
        const present = new Set(await admin.listTopics());
        const mine = platformTopics(cfg, enrichedTopic).filter((t) => present.has(t));
        if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
      } catch {
        // best effort
      } finally {
        await admin.disconnect().catch(() => {});
      }
      await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    },
  };
}
