/**
 * @module
 * `deno task dev [--reset] [--no-live]`: the whole platform on one machine for a newcomer. Starts
 * (or reuses) the local Kafka and Cassandra, creates the topics and the schema, puts past days of
 * generated traffic into the master dataset once (dev/backfill.ts) and runs the batch jobs over
 * them, then runs `deno task orchestrate` (stream processors plus hourly and daily batch runs) and
 * `deno task serve`, streams live generated traffic through Kafka, and prints the GraphiQL and
 * dashboard URLs and example queries. Ctrl-C stops everything it started and leaves no process
 * behind. See docs/DEV.md.
 */
import { ConfigError, loadConfigOrExit } from "../shared/config.ts";
import { applySchema } from "../infra/schema.ts";
import { ensureTopics } from "../infra/topics.ts";
import type { BackfillMarker } from "./backfill.ts";
import { startChild, stopChild, stopLeftovers, tail } from "./children.ts";
import { DEV_USAGE, type ResolvedDevConfig, resolveDevConfig } from "./config.ts";
import { curlCommand, examples } from "./examples.ts";
import { runLive } from "./live.ts";
import { formatCount, formatDuration, Printer } from "./ui.ts";
import { check, MARKER_VAR, REPO, type Run, Stopped } from "./_run.ts";
import {
  backfill,
  batch,
  extend,
  partitionsOf,
  population,
  reset,
  schemaUpToDate,
  servers,
} from "./setup.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portFree(port: number): boolean {
  if (port === 0) return true;
  try {
    const l = Deno.listen({ port, hostname: "0.0.0.0" });
    l.close();
    return true;
  } catch {
    return false;
  }
}

async function httpOk(url: string, anyStatus = false): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok || anyStatus;
  } catch {
    return false;
  }
}

/** Waits until `url` answers 200, failing when a child dies or the run is stopped. */
async function waitHttp(
  run: Run,
  what: string,
  url: string,
  timeoutMs: number,
  anyStatus = false,
): Promise<number> {
  const t0 = Date.now();
  while (!(await httpOk(url, anyStatus))) {
    check(run);
    const dead = run.children.find((c) => c.done());
    if (dead) {
      throw new Error(
        `${dead.name} exited while waiting for ${what}; last lines of ${dead.logFile}:\n${await tail(
          dead.logFile,
        )}`,
      );
    }
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`${what} did not answer at ${url} within ${formatDuration(timeoutMs)}`);
    }
    run.out.progress(`waiting for ${what} (${formatDuration(Date.now() - t0)})`);
    await sleep(500);
  }
  return Date.now() - t0;
}

async function platform(run: Run): Promise<void> {
  const { cfg, dev, out } = run;
  const env = { [MARKER_VAR]: run.runId };
  const t0 = Date.now();
  out.step(
    "stream processors and scheduled batch (deno task orchestrate), serving (deno task serve)",
  );
  run.children.push(
    await startChild("orchestrator", `${dev.logDir}/orchestrator.log`, {
      args: ["run", "-A", "orchestrator/main.ts"],
      cwd: REPO,
      env,
    }),
    await startChild("serving", `${dev.logDir}/serving.log`, {
      args: ["run", "-A", "serving/main.ts"],
      cwd: REPO,
      env,
    }),
  );
  await waitHttp(run, "the serving layer", `http://localhost:${cfg.port}/health`, 180_000);
  if (dev.orchestratorPort !== 0) {
    await waitHttp(
      run,
      "the orchestrator",
      `http://localhost:${dev.orchestratorPort}/health`,
      60_000,
    );
  }
  await waitHttp(
    run,
    "the stream processors",
    `http://localhost:${cfg.healthPort}/health`,
    180_000,
  );
  out.done(`platform running; logs in ${dev.logDir}/`, Date.now() - t0);
}

function banner(run: Run, firstCourse: string): void {
  const base = `http://localhost:${run.cfg.port}`;
  const lines = [
    "",
    `  Dashboard   ${base}/`,
    `  GraphiQL    ${base}/graphql`,
    `  Processors  http://localhost:${run.cfg.healthPort}/metrics`,
    "",
    "  Example queries:",
  ];
  for (const ex of examples(Date.now(), firstCourse)) {
    lines.push("", `  # ${ex.title}`, `  ${curlCommand(`${base}/graphql`, ex.query)}`);
  }
  lines.push("", "  Ctrl-C stops everything this command started.", "");
  run.out.raw(lines.join("\n"));
}

async function status(run: Run, sent: () => number, since: number): Promise<string> {
  let extra = "";
  try {
    const res = await fetch(`http://localhost:${run.cfg.port}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "{ servingStatus { batchThrough realtimeWatermark lag { lag } } }",
      }),
      signal: AbortSignal.timeout(3000),
    });
    const s = (await res.json())?.data?.servingStatus;
    if (s) {
      const lag = s.lag.reduce((n: number, l: { lag: number }) => n + l.lag, 0);
      extra = ` | lag ${formatCount(lag)} | batch through ${
        s.batchThrough?.slice(11, 16) ?? "–"
      } | watermark ${s.realtimeWatermark?.slice(11, 19) ?? "–"}`;
    }
  } catch {
    extra = " | serving not answering";
  }
  const secs = Math.max(1, (Date.now() - since) / 1000);
  return `live: ${formatCount(sent())} records sent (${formatCount(sent() / secs)}/s)${extra}`;
}

async function serve(run: Run, marker: BackfillMarker | null): Promise<number> {
  const { cfg, dev, out } = run;
  const pop = population(dev, marker, Date.now());
  let sent = 0;
  const since = Date.now();
  if (dev.live) {
    const liveStop = new AbortController();
    run.signal.addEventListener("abort", () => liveStop.abort(), { once: true });
    run.live = runLive(cfg, {
      population: pop,
      seed: Math.floor(Date.now() / 1000) % 2_147_483_647,
      eventsPerSec: dev.liveEventsPerSec,
      partitions: await partitionsOf(cfg),
      signal: liveStop.signal,
      onProgress: (n) => sent = n,
    });
    out.done(
      `live traffic: ${dev.liveEventsPerSec} records/s on a daily average (it follows the users' day)`,
    );
  }
  banner(run, pop.courses[0].id);
  let failure: unknown;
  run.live?.catch((e) => failure = e);
  for (let i = 0;; i++) {
    if (run.signal.aborted) return 0;
    if (failure) throw new Error(`live traffic stopped: ${(failure as Error).message}`);
    const dead = run.children.find((c) => c.done());
    if (dead) {
      throw new Error(
        `${dead.name} exited unexpectedly; last lines of ${dead.logFile}:\n${await tail(
          dead.logFile,
        )}`,
      );
    }
    if (i > 0 && i % 30 === 0) out.progress(await status(run, () => sent, since));
    await sleep(500);
  }
}

async function shutdown(run: Run): Promise<void> {
  const { out } = run;
  const t0 = Date.now();
  out.step("stopping");
  await run.live?.catch(() => {});
  const stopped = await Promise.all(run.children.map(async (c) => {
    const how = await stopChild(c, c.name === "orchestrator" ? 45_000 : 15_000);
    return `${c.name} (pid ${c.pid}, ${how})`;
  }));
  if (stopped.length > 0) out.info(`stopped ${stopped.join(", ")}`);
  const left = await stopLeftovers(MARKER_VAR, run.runId);
  if (left.length > 0) out.warn(`stopped leftover processes ${left.join(", ")}`);
  if (run.servers?.started) {
    out.info("stopping Kafka and Cassandra (started by this run)");
    await run.servers.stop();
  } else if (run.servers) {
    out.info("Kafka and Cassandra were already running: left running (deno task infra:down)");
  }
  out.done("everything this run started has stopped", Date.now() - t0);
}

async function main(): Promise<number> {
  let dev: ResolvedDevConfig;
  try {
    dev = resolveDevConfig(Deno.env.toObject(), Deno.args);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`${e.message}\n${DEV_USAGE}`);
    return 2;
  }
  if (dev.help) {
    console.log(DEV_USAGE);
    return 0;
  }
  const cfg = loadConfigOrExit();
  const out = new Printer();
  const stop = new AbortController();
  const run: Run = { cfg, dev, out, signal: stop.signal, runId: crypto.randomUUID(), children: [] };
  const onSignal = () => {
    if (stop.signal.aborted) out.warn("still stopping; please wait");
    else stop.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const t0 = Date.now();
  let code = 0;
  try {
    for (
      const [name, port] of [["PORT", cfg.port], ["HEALTH_PORT", cfg.healthPort], [
        "ORCH_HEALTH_PORT",
        dev.orchestratorPort,
      ]] as const
    ) {
      if (!portFree(port)) {
        throw new Error(
          `Port ${port} (${name}) is in use: is another deno task dev running? Stop it or set ${name}`,
        );
      }
    }
    await servers(run);
    check(run);
    if (dev.reset) await reset(run);
    const t1 = Date.now();
    await ensureTopics(cfg, { enrichedTopic: cfg.enrichedTopic });
    await schemaUpToDate(cfg);
    const schema = await applySchema(cfg);
    out.done(
      `topics and schema (keyspace ${schema.keyspace}, ${cfg.topicPartitions} partitions per topic)`,
      Date.now() - t1,
    );
    check(run);
    let { marker, ran } = await backfill(run);
    check(run);
    if (marker) marker = await batch(run, marker);
    if (marker && ran) marker = await extend(run, marker, ran);
    check(run);
    await platform(run);
    out.done(`ready in ${formatDuration(Date.now() - t0)}`);
    await serve(run, marker);
  } catch (e) {
    if (e instanceof Stopped || (e as Error).name === "AbortError") {
      out.warn("interrupted");
    } else {
      out.error((e as Error).message);
      code = 1;
    }
  } finally {
    await shutdown(run);
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return code;
}

if (import.meta.main) Deno.exit(await main());
