/**
 * @module
 * `deno task orchestrate [--streaming true|false] [--batch true|false]`: runs the stream processors
 * as a supervised child and schedules the batch jobs as child runs, with `/health` and `/metrics`
 * on `ORCH_HEALTH_PORT`. Stops cleanly on SIGTERM or SIGINT (children stopped, exit code 0).
 * See docs/ORCHESTRATOR.md.
 */
import { parseArgs } from "node:util";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfigOrExit } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { processMetrics, Registry } from "../shared/metrics.ts";
import { BatchScheduler } from "./batch_scheduler.ts";
import { type ResolvedOrchestratorConfig, resolveOrchestratorConfig } from "./config.ts";
import { createHealthApp } from "./health.ts";
import { FileRunLocks } from "./lock.ts";
import { ChildRegistry } from "./orphans.ts";
import { denoSpawner } from "./process.ts";
import { earliestArchivedHour, manifestSource } from "./published.ts";
import { TaskBatchRunner } from "./runner.ts";
import { FileStateStore } from "./state.ts";
import { StreamSupervisor } from "./supervisor.ts";

function parseCommandLine(): { streaming?: string; batch?: string } {
  try {
    const { values } = parseArgs({
      args: Deno.args,
      options: { streaming: { type: "string" }, batch: { type: "string" } },
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (e) {
    console.error(
      `${
        (e as Error).message
      }\nusage: deno task orchestrate [--streaming true|false] [--batch true|false]`,
    );
    Deno.exit(2);
  }
}

async function main(): Promise<void> {
  const args = parseCommandLine();
  const base = loadConfigOrExit();
  let cfg: ResolvedOrchestratorConfig;
  try {
    cfg = resolveOrchestratorConfig(Deno.env.toObject(), args, base);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      Deno.exit(2);
    }
    throw e;
  }
  const log = createLogger({ name: "orchestrator", level: base.logLevel });
  const registry = new Registry();
  processMetrics(registry);
  const startedAt = Date.now();
  const repoRoot = fileURLToPath(new URL("..", import.meta.url));
  const outputsDir = resolve(base.outputsDir);
  const dataDir = resolve(base.dataDir);
  // Children run in the repository root; absolute paths keep them on the same directories.
  const childEnv = { OUTPUTS_DIR: outputsDir, DATA_DIR: dataDir };
  const owner = `${hostname()}:${Deno.pid}`;
  // Children left by an orchestrator that was SIGKILLed are stopped before anything starts.
  await Deno.mkdir(outputsDir, { recursive: true });
  const children = new ChildRegistry(join(outputsDir, "_orchestrator_children"));
  await children.reapOrphans({ graceMs: cfg.stopTimeoutMs, log });
  const spawner = children.wrap(denoSpawner());
  const stop = new AbortController();

  let supervisor: StreamSupervisor | undefined;
  if (cfg.streaming) {
    supervisor = new StreamSupervisor({
      jobs: cfg.streamJobs,
      spawner,
      cwd: repoRoot,
      env: childEnv,
      log: log.child({ component: "stream" }),
      backoffMaxMs: cfg.streamBackoffMaxMs,
      stopTimeoutMs: cfg.stopTimeoutMs,
      metrics: {
        restarts: registry.counter(
          "orchestrator_stream_restarts_total",
          "Restarts of the stream processors.",
        ),
        up: registry.gauge("orchestrator_stream_up", "1 while the stream processors run."),
      },
    });
  }
  let scheduler: BatchScheduler | undefined;
  if (cfg.batch) {
    scheduler = new BatchScheduler({
      schedule: {
        hourlyDelayMs: cfg.hourlyDelayMs,
        dailyAtMs: cfg.dailyAtMs,
        hourlyJobs: cfg.hourlyJobs,
        dailyJobs: cfg.dailyJobs,
        maxAttempts: cfg.maxAttempts,
        retryBaseMs: cfg.retryBaseMs,
        retryMaxMs: cfg.retryMaxMs,
        dailyExtraArgs: cfg.segmentationLookbackDays !== undefined &&
            cfg.dailyJobs.includes("user_segmentation")
          ? ["--lookback-days", String(cfg.segmentationLookbackDays)]
          : [],
        commonArgs: ["--wait-seconds", String(cfg.batchLockWaitSec)],
      },
      store: new FileStateStore(outputsDir),
      locks: new FileRunLocks(join(outputsDir, "_orchestrator_locks"), { owner }),
      runner: new TaskBatchRunner({
        spawner,
        cwd: repoRoot,
        env: childEnv,
        timeoutMs: cfg.batchTimeoutMs,
        stopTimeoutMs: cfg.stopTimeoutMs,
      }),
      published: manifestSource(outputsDir),
      earliestArchived: () => earliestArchivedHour(dataDir),
      catchupDays: cfg.catchupDays,
      owner,
      log: log.child({ component: "batch" }),
      registry,
    });
  }

  const app = createHealthApp({
    startedAt,
    stream: supervisor && (() => supervisor.status()),
    batch: scheduler && (() => scheduler.status()),
    hourlyJobs: cfg.batch ? cfg.hourlyJobs : [],
    dailyJobs: cfg.batch ? cfg.dailyJobs : [],
    registry,
  });
  const serverStop = new AbortController();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      port: cfg.healthPort,
      signal: serverStop.signal,
      onListen: ({ hostname, port }) =>
        log.info("orchestrator listening", {
          port,
          hostname,
          health: `http://localhost:${port}/health`,
          streaming: cfg.streaming,
          batch: cfg.batch,
          streamJobs: cfg.streaming ? cfg.streamJobs : [],
          hourlyJobs: cfg.hourlyJobs,
          dailyJobs: cfg.dailyJobs,
          outputsDir,
          dataDir,
        }),
    }, app.fetch);
  } catch (e) {
    console.error(`Cannot listen on ORCH_HEALTH_PORT=${cfg.healthPort}: ${(e as Error).message}`);
    Deno.exit(1);
  }

  const onSignal = (name: Deno.Signal) => () => {
    if (stop.signal.aborted) {
      log.warn("already stopping", { signal: name });
      return;
    }
    log.info("stopping", { signal: name });
    stop.abort();
  };
  const handlers = (["SIGTERM", "SIGINT"] as const).map((sig) => {
    const h = onSignal(sig);
    Deno.addSignalListener(sig, h);
    return [sig, h] as const;
  });

  await Promise.all([supervisor?.run(stop.signal), scheduler?.run(stop.signal)]);
  serverStop.abort();
  await server.finished;
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  log.info("orchestrator stopped");
  Deno.exit(0);
}

if (import.meta.main) await main();
