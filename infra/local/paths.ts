/**
 * @module
 * Where the local servers keep their jars (a cache outside the repo) and their state (data, logs,
 * pids; `<repo>/.state/local` by default).
 */

/** The repository root (two levels above this file). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Directories used by the local servers; every field has a default from the environment. */
export interface LocalPaths {
  /** Jar cache: `$EDU_CACHE_DIR`, else `${XDG_CACHE_HOME:-$HOME/.cache}/edu-lambda`. */
  cacheDir: string;
  /** State (data, logs, pids, generated configs): `$EDU_STATE_DIR`, else `<repo>/.state/local`. */
  stateDir: string;
}

/** Resolves the cache and state directories from the environment. */
export function localPaths(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): LocalPaths {
  const home = env.HOME ?? "/tmp";
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== ""
    ? env.XDG_CACHE_HOME
    : `${home}/.cache`;
  return {
    cacheDir: env.EDU_CACHE_DIR && env.EDU_CACHE_DIR !== ""
      ? env.EDU_CACHE_DIR
      : `${xdg}/edu-lambda`,
    stateDir: env.EDU_STATE_DIR && env.EDU_STATE_DIR !== ""
      ? env.EDU_STATE_DIR
      : `${REPO_ROOT}/.state/local`,
  };
}

/** TCP ports of the local servers; each has an `EDU_*_PORT` override. */
export interface LocalPorts {
  /** Kafka PLAINTEXT listener: `EDU_KAFKA_PORT`, default 9092. */
  kafka: number;
  /** KRaft controller listener: `EDU_KAFKA_CONTROLLER_PORT`, default 9093. */
  kafkaController: number;
  /** Cassandra native protocol: `EDU_CASSANDRA_PORT`, default 9042. */
  cassandra: number;
  /** Cassandra internode: `EDU_CASSANDRA_STORAGE_PORT`, default 7000. */
  cassandraStorage: number;
  /** Cassandra local JMX: `EDU_CASSANDRA_JMX_PORT`, default 7199. */
  cassandraJmx: number;
}

const PORT_VARS: Record<keyof LocalPorts, [string, number]> = {
  kafka: ["EDU_KAFKA_PORT", 9092],
  kafkaController: ["EDU_KAFKA_CONTROLLER_PORT", 9093],
  cassandra: ["EDU_CASSANDRA_PORT", 9042],
  cassandraStorage: ["EDU_CASSANDRA_STORAGE_PORT", 7000],
  cassandraJmx: ["EDU_CASSANDRA_JMX_PORT", 7199],
};

/**
 * Resolves the local servers' ports from the environment.
 * @throws {RangeError} naming the variable when a value is not a port number
 */
export function localPorts(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): LocalPorts {
  const out = {} as LocalPorts;
  for (
    const [key, [name, fallback]] of Object.entries(PORT_VARS) as [
      keyof LocalPorts,
      [string, number],
    ][]
  ) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") {
      out[key] = fallback;
      continue;
    }
    const n = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 65535) {
      throw new RangeError(`Invalid ${name}=${JSON.stringify(raw)}: expected a port 1..65535`);
    }
    out[key] = n;
  }
  return out;
}
