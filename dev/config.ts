/**
 * @module
 * Settings of `deno task dev` (the `DEV_*` variables and the command line), resolved once on top
 * of the platform's {@link ResolvedConfig}.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../shared/config.ts";

/** Everything `deno task dev` needs besides the platform configuration. */
export interface ResolvedDevConfig {
  /** `DEV_DAYS_BACK` (default 3, 0..30): whole past days of traffic put into the archive. */
  daysBack: number;
  /** `DEV_EVENTS_PER_SEC` (default 200): live records per second produced to Kafka. */
  liveEventsPerSec: number;
  /** `DEV_BACKFILL_EVENTS_PER_SEC` (default 4): records per second of event time in past days. */
  backfillEventsPerSec: number;
  /** `DEV_SEED` (default 1): seed of the population and the past days' traffic. */
  seed: number;
  /** `DEV_USERS` (default 2000): users of the generated population. */
  users: number;
  /** `DEV_COURSES` (default 20): courses of the generated population. */
  courses: number;
  /** `EDU_SERVERS=external`: use the servers the environment points to, start none. */
  externalServers: boolean;
  /** `DEV_LOG_DIR` (default `<repo>/.state/dev/logs`): the children's log files. */
  logDir: string;
  /** `ORCH_HEALTH_PORT` (default 9998): the orchestrator's `/health`, checked before start. */
  orchestratorPort: number;
  /** `--reset`: stop nothing, but drop this configuration's data, keyspace, topics first. */
  reset: boolean;
  /** `--no-live`: start everything but produce no live traffic. */
  live: boolean;
  /** `--help`. */
  help: boolean;
}

/** Usage text of `deno task dev`. */
export const DEV_USAGE = `Usage: deno task dev [--reset] [--no-live]
  --reset    delete this configuration's archive, batch outputs, keyspace and topics first
  --no-live  run everything but produce no live traffic
Variables: DEV_DAYS_BACK (3), DEV_EVENTS_PER_SEC (200), DEV_BACKFILL_EVENTS_PER_SEC (4),
  DEV_SEED (1), DEV_USERS (2000), DEV_COURSES (20), DEV_LOG_DIR (.state/dev/logs),
  plus the platform's (README.md).`;

type Env = Record<string, string | undefined>;

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

function num(env: Env, name: string, fallback: number, min: number, max: number, int = true) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw.trim());
  if (!Number.isFinite(n) || (int && !Number.isInteger(n)) || n < min || n > max) {
    throw new ConfigError(
      name,
      raw,
      `expected ${int ? "an integer" : "a number"} in ${min}..${max}`,
    );
  }
  return n;
}

/**
 * Resolves the settings of `deno task dev`.
 * @param env the environment, e.g. `Deno.env.toObject()`
 * @param args the command line
 * @throws {ConfigError} naming the variable or flag that is malformed
 */
export function resolveDevConfig(env: Env, args: readonly string[]): ResolvedDevConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        reset: { type: "boolean", default: false },
        "no-live": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new ConfigError("command line", args.join(" "), (e as Error).message);
  }
  return {
    daysBack: num(env, "DEV_DAYS_BACK", 3, 0, 30),
    liveEventsPerSec: num(env, "DEV_EVENTS_PER_SEC", 200, 0.1, 5000, false),
    backfillEventsPerSec: num(env, "DEV_BACKFILL_EVENTS_PER_SEC", 4, 0.01, 200, false),
    seed: num(env, "DEV_SEED", 1, 0, 2 ** 31 - 1),
    users: num(env, "DEV_USERS", 2000, 1, 1_000_000),
    courses: num(env, "DEV_COURSES", 20, 1, 999),
    externalServers: env.EDU_SERVERS === "external",
    logDir: env.DEV_LOG_DIR?.trim() || `${REPO}/.state/dev/logs`,
    orchestratorPort: num(env, "ORCH_HEALTH_PORT", 9998, 0, 65535),
    reset: values.reset === true,
    live: values["no-live"] !== true,
    help: values.help === true,
  };
}
