/**
 * @module
 * `deno task process [--jobs a,b]`: runs the stream processors (every enabled job by default:
 * `STREAM_JOBS` minus `DISABLED_JOBS`, or `--jobs`) until SIGTERM/SIGINT, then stops consuming,
 * flushes, stores checkpoints, leaves the consumer group and exits 0. `/health`, `/ready` and
 * `/metrics` are served on `HEALTH_PORT`. Run `deno task migrate` first (topics and tables).
 */
import { parseArgs } from "node:util";
import {
  loadConfigOrExit,
  type ResolvedConfig,
  STREAM_JOBS,
  type StreamJob,
} from "../shared/config.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { createKafka } from "../shared/kafka.ts";
import { createLogger, type Logger } from "../shared/log.ts";
import { processMetrics, Registry } from "../shared/metrics.ts";
import { builtinJobRegistry } from "./jobs/mod.ts";
import type { JobRegistry } from "./jobs/registry.ts";
import { CassandraCheckpointStore } from "./runtime/checkpoint_store.ts";
import { healthApp } from "./runtime/health.ts";
import { StreamRuntime } from "./runtime/runtime.ts";
import { CassandraStatusStore } from "./runtime/status_store.ts";
import type { JobDefinition } from "./runtime/task.ts";
import { CassandraViewStore } from "./store/cassandra_store.ts";
import { WorkerViewStore } from "./store/worker_store.ts";
import type { ViewStore } from "./store/view_store.ts";

const USAGE = `Usage: deno task process [--jobs job1,job2]

Runs the stream processors until SIGTERM/SIGINT. Jobs: ${STREAM_JOBS.join(", ")}.
Without --jobs, STREAM_JOBS minus DISABLED_JOBS (default: all).`;

/**
 * The enabled jobs: `--jobs` when given, else the configuration's.
 * @throws {RangeError} naming an unknown job
 */
export function enabledJobs(
  cfg: Pick<ResolvedConfig, "streamJobs">,
  jobsArg?: string,
): StreamJob[] {
  if (jobsArg === undefined) return cfg.streamJobs;
  const names = jobsArg.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new RangeError(`--jobs: expected a comma-separated list of jobs`);
  for (const n of names) {
    if (!(STREAM_JOBS as readonly string[]).includes(n)) {
      throw new RangeError(`--jobs: unknown job "${n}" (jobs: ${STREAM_JOBS.join(", ")})`);
    }
  }
  return [...new Set(names)] as StreamJob[];
}

/**
 * `CONSUMER_SESSION_TIMEOUT_MS` (default 30000): how long the consumer group waits for a silent
 * member before moving its partitions.
 * @throws {RangeError} naming the variable when it is not an integer in 6000..300000
 */
export function sessionTimeoutMs(env: Record<string, string | undefined>): number {
  const raw = env.CONSUMER_SESSION_TIMEOUT_MS;
  if (raw === undefined || raw.trim() === "") return 30_000;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n < 6_000 || n > 300_000) {
    throw new RangeError(
      `Invalid configuration: CONSUMER_SESSION_TIMEOUT_MS=${
        JSON.stringify(raw)
      }: expected an integer in 6000..300000`,
    );
  }
  return n;
}

/**
 * Whether row writes run in a worker thread (`STREAM_WRITE_WORKER=1`; default 0, on the consumer's
 * thread: the worker costs more CPU in all, which only pays where a core is spare).
 * @throws {RangeError} naming the variable when it is not 0 or 1
 */
export function writeWorker(env: Record<string, string | undefined>): boolean {
  const raw = env.STREAM_WRITE_WORKER?.trim();
  if (raw === undefined || raw === "") return false;
  if (raw !== "0" && raw !== "1") {
    throw new RangeError(
      `Invalid configuration: STREAM_WRITE_WORKER=${JSON.stringify(raw)}: expected 0 or 1`,
    );
  }
  return raw === "1";
}

/** Builds the registered jobs among `names`; the others are logged as not implemented and skipped. */
export function buildJobs(
  names: readonly StreamJob[],
  registry: JobRegistry,
  deps: Parameters<JobRegistry["create"]>[1],
  log: Logger,
): JobDefinition[] {
  const jobs: JobDefinition[] = [];
  for (const n of names) {
    if (!registry.has(n)) {
      log.warn(`stream job ${n} is not implemented yet; skipped`, { job: n });
      continue;
    }
    jobs.push(registry.create(n, deps));
  }
  return jobs;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: Deno.args,
      options: { jobs: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  const cfg = loadConfigOrExit();
  const log = createLogger({ name: "processors", level: cfg.logLevel });
  let names: StreamJob[];
  let sessionMs: number;
  let inWorker: boolean;
  try {
    names = enabledJobs(cfg, args.values.jobs);
    sessionMs = sessionTimeoutMs(Deno.env.toObject());
    inWorker = writeWorker(Deno.env.toObject());
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const metrics = new Registry();
  processMetrics(metrics);
  const client = createCassandraClient(cfg);
  const local = new CassandraViewStore(client, { ttlSeconds: cfg.realtimeTtlSeconds });
  const store: ViewStore = inWorker
    ? new WorkerViewStore(cfg, { ttlSeconds: cfg.realtimeTtlSeconds, reads: local })
    : local;
  const jobs = buildJobs(names, builtinJobRegistry(), { config: cfg, store, log, metrics }, log);
  if (jobs.length === 0) {
    console.error(`No runnable stream job among: ${names.join(", ")}`);
    return 2;
  }
  const runtime = new StreamRuntime({
    config: cfg,
    jobs,
    kafka: createKafka(cfg, "speed-layer"),
    checkpoints: new CassandraCheckpointStore(client, cfg.consumerGroup),
    status: new CassandraStatusStore(client, cfg.consumerGroup),
    log,
    metrics,
    sessionTimeoutMs: sessionMs,
  });
  const server = Deno.serve(
    { port: cfg.healthPort, hostname: "0.0.0.0", onListen: () => {} },
    healthApp(runtime, metrics).fetch,
  );
  log.info("health endpoints listening", { port: server.addr.port });

  let exitCode = 0;
  const done = Promise.withResolvers<void>();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("signal received; stopping", { signal });
    runtime.stop().catch(() => exitCode = 1).finally(() => done.resolve());
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  try {
    await runtime.start((e) => {
      log.error("consumer failed for good; exiting", { error: e });
      exitCode = 1;
      stop("fatal");
    });
  } catch (e) {
    log.error("could not start the stream processors", { error: e });
    exitCode = 1;
    stop("start failure");
  }
  await done.promise;
  await server.shutdown();
  if (store !== local) await store.close().catch(() => {});
  await client.shutdown().catch(() => {});
  return exitCode;
}

if (import.meta.main) Deno.exit(await main());
