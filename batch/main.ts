/**
 * @module
 * `deno task batch`: runs the batch views over the master dataset and publishes them. Exit codes:
 * 0 published, 1 a day failed (message names the file or the lock holder), 2 bad usage or
 * configuration.
 */
import { loadConfigOrExit } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { parseBatchArgs, USAGE, UsageError } from "./cli.ts";
import type { PublishStage } from "./publish.ts";
import { runBatch } from "./run.ts";

async function main(): Promise<number> {
  let cmd;
  try {
    cmd = parseBatchArgs(Deno.args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${USAGE}`);
    return 2;
  }
  if (cmd.help) {
    console.log(USAGE);
    return 0;
  }
  const cfg = loadConfigOrExit();
  const log = createLogger({ name: "batch", level: cfg.logLevel });
  // Fault-injection seam for crash tests: stop (and wait to be killed) at a publish stage.
  const pauseAt = Deno.env.get("BATCH_PAUSE_AT") as PublishStage | undefined;
  const pause = pauseAt
    ? async (stage: PublishStage) => {
      if (stage !== pauseAt) return;
      log.warn("paused for a crash test", { stage });
      await new Promise(() => setInterval(() => {}, 60_000));
    }
    : undefined;
  try {
    const results = await runBatch(cfg, cmd.request, {
      log,
      pause,
      lockWaitMs: cmd.waitSeconds * 1000,
      closeDatabase: false,
    });
    for (const r of results) {
      log.info("batch done", {
        date: r.date,
        runId: r.runId,
        hours: r.hours.length,
        notYet: r.notYet.length,
        events: r.load.rows,
        duplicates: r.load.rowsRead - r.load.rows,
        rows: Object.fromEntries(Object.entries(r.views).map(([k, v]) => [k, v.rows])),
        ms: Math.round(r.ms),
      });
    }
    return 0;
  } catch (e) {
    log.error(`batch failed: ${(e as Error).message}`, { error: (e as Error).name });
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
