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
import { ConfigError, loadConfigOrExit, type ResolvedConfig } from "../shared/config.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { createKafka } from "../shared/kafka.ts";
import { ensureLocalServers, type LocalServers } from "../infra/local/mod.ts";
import { applySchema } from "../infra/schema.ts";
import { ensureTopics, platformTopics } from "../infra/topics.ts";
import { createPopulation, type Population } from "../generator/population.ts";
import { floorHour, HOUR_MS, toIso } from "../shared/time.ts";
import {
  type BackfillMarker,
  backfillWindow,
  decideBackfill,
  readMarker,
  runBackfill,
  windowDates,
  writeMarker,
} from "./backfill.ts";
import { type Child, startChild, stopChild, stopLeftovers, tail } from "./children.ts";
import { DEV_USAGE, type ResolvedDevConfig, resolveDevConfig } from "./config.ts";
import { curlCommand, examples } from "./examples.ts";
import { missingColumns } from "./schema_check.ts";
import { runLive } from "./live.ts";
import { formatCount, formatDuration, Printer, printerLogger } from "./ui.ts";

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
/** Every process this run starts carries `EDU_DEV_RUN=<id>`, so leftovers can be found. */
const MARKER_VAR = "EDU_DEV_RUN";

class Stopped extends Error {
  constructor() {
    super("stopped");
    this.name = "Stopped";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  cfg: ResolvedConfig;
  dev: ResolvedDevConfig;
  out: Printer;
  signal: AbortSignal;
  runId: string;
  children: Child[];
  servers?: LocalServers;
  live?: Promise<unknown>;
}

function check(run: Run): void {
  if (run.signal.aborted) throw new Stopped();
}

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

async function servers(run: Run): Promise<void> {
  if (Deno.env.get("EDU_SERVERS") === "external") {
    run.out.done("using the Kafka and Cassandra the environment points to (EDU_SERVERS=external)");
    return;
  }
  const t0 = Date.now();
  run.out.step("Kafka and Cassandra (first run: jars from Maven Central, then about a minute)");
  run.servers = await ensureLocalServers({
    allowForeign: true,
    log: printerLogger(run.out, "servers"),
  });
  const s = run.servers.status;
  run.out.done(`Kafka ${s.kafka}, Cassandra ${s.cassandra}`, Date.now() - t0);
}

async function reset(run: Run): Promise<void> {
  const { cfg, out } = run;
  out.step(
    `--reset: deleting keyspace ${cfg.cassandraKeyspace}, the topics, ${cfg.dataDir} and ${cfg.outputsDir}`,
  );
  const client = createCassandraClient(cfg, { keyspace: false, readTimeoutMs: 60_000 });
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${cfg.cassandraKeyspace}`);
  } finally {
    await client.shutdown();
  }
  const admin = createKafka(cfg, "edu-dev-reset", { logLevel: "nothing" }).admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const topics = platformTopics(cfg).filter((t) => present.has(t));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    await admin.deleteGroups([cfg.consumerGroup]).catch(() => {});
  } finally {
    await admin.disconnect();
  }
  for (const dir of [cfg.dataDir, cfg.outputsDir]) {
    await Deno.remove(dir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  out.done("reset");
}

/** Fails when the keyspace was created by an older schema (its tables lack columns). */
async function schemaUpToDate(cfg: ResolvedConfig): Promise<void> {
  const client = createCassandraClient(cfg, { keyspace: false });
  try {
    const cql = await Deno.readTextFile(new URL("../infra/schema.cql", import.meta.url));
    const missing = await missingColumns(client, cfg.cassandraKeyspace, cql);
    if (missing.length > 0) {
      const list = missing.slice(0, 5).map((m) => `${m.table}.${m.column}`).join(", ");
      throw new Error(
        `Keyspace ${cfg.cassandraKeyspace} was created by an older schema (missing ${list}` +
          `${missing.length > 5 ? ", …" : ""}); start over with \`deno task dev --reset\``,
      );
    }
  } finally {
    await client.shutdown();
  }
}

async function archiverCheckpoints(cfg: ResolvedConfig): Promise<boolean> {
  const client = createCassandraClient(cfg);
  try {
    const rs = await client.execute(
      "SELECT job FROM stream_checkpoints WHERE consumer_group = ?",
      [cfg.consumerGroup],
      { prepare: true },
    );
    return rs.rows.some((r) => r.get("job") === "archiver");
  } finally {
    await client.shutdown();
  }
}

async function partitionsOf(cfg: ResolvedConfig): Promise<number> {
  const admin = createKafka(cfg, "edu-dev", { logLevel: "nothing" }).admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [cfg.topics.APP_EVENTS] });
    return md.topics[0].partitions.length;
  } finally {
    await admin.disconnect();
  }
}

function population(dev: ResolvedDevConfig, marker: BackfillMarker | null, now: number) {
  return marker
    ? createPopulation({
      seed: marker.seed,
      users: marker.users,
      courses: marker.courses,
      startMs: marker.startMs,
      endMs: marker.populationEndMs ?? marker.endMs,
    })
    : createPopulation({ seed: dev.seed, users: dev.users, courses: dev.courses, startMs: now });
}

async function backfill(
  run: Run,
): Promise<{ marker: BackfillMarker | null; ran?: Population }> {
  const { cfg, dev, out } = run;
  const window = backfillWindow(Date.now(), dev.daysBack);
  if (!window) {
    out.done("past days: none asked for (DEV_DAYS_BACK=0)");
    return { marker: await readMarker(cfg.dataDir) };
  }
  const decision = await decideBackfill(cfg, () => archiverCheckpoints(cfg));
  if (!decision.run) {
    const m = decision.marker;
    out.done(
      m
        ? `past days: ${windowDates(m).join(", ")} already in the archive (${
          formatCount(m.archived)
        } events), skipped`
        : `past days: skipped, ${decision.reason}`,
    );
    return { marker: m };
  }
  const t0 = Date.now();
  const dates = windowDates(window);
  out.step(
    `past days: generating ${dates[0]} 00:00 … ${
      new Date(window.endMs).toISOString().slice(0, 13)
    }:00 UTC at ${dev.backfillEventsPerSec} events/s into Kafka and the archive`,
  );
  const pop: Population = createPopulation({
    seed: dev.seed,
    users: dev.users,
    courses: dev.courses,
    startMs: window.startMs,
    endMs: window.endMs,
  });
  const marker = await runBackfill(cfg, {
    window,
    population: pop,
    seed: dev.seed,
    eventsPerSec: dev.backfillEventsPerSec,
    signal: run.signal,
    onProgress: (p) => {
      const s = (Date.now() - t0) / 1000;
      out.progress(
        `past days: ${Math.round(p.fraction * 100)} % (event time ${
          new Date(p.eventTimeMs).toISOString().slice(0, 13)
        }h), ${formatCount(p.produced)} records, ${formatCount(p.produced / Math.max(s, 0.1))}/s`,
      );
    },
  });
  out.done(
    `past days: ${formatCount(marker.produced)} records produced, ${
      formatCount(marker.archived)
    } events archived in ${formatCount(marker.files)} files`,
    Date.now() - t0,
  );
  return { marker, ran: pop };
}

/** Runs `deno task batch <args>` as a child, showing how many of `units` it has published. */
async function runBatch(run: Run, args: string[], units: number, what: string): Promise<void> {
  const { out } = run;
  const t0 = Date.now();
  let published = 0;
  const child = await startChild("batch", `${run.dev.logDir}/batch.log`, {
    args: ["run", "-A", "batch/main.ts", ...args],
    cwd: REPO,
    env: { [MARKER_VAR]: run.runId },
    onLine: (line) => {
      const done = line.includes('"day published"');
      if (done) published++;
      out.progress(
        `batch: ${published}/${units} ${what} published (${formatDuration(Date.now() - t0)})`,
        done,
      );
    },
  });
  run.children.push(child);
  const stopOnAbort = () => stopChild(child, 10_000);
  run.signal.addEventListener("abort", stopOnAbort, { once: true });
  const code = await child.exited;
  run.signal.removeEventListener("abort", stopOnAbort);
  run.children.splice(run.children.indexOf(child), 1);
  check(run);
  if (code !== 0) {
    throw new Error(
      `deno task batch ${
        args.join(" ")
      } failed (exit ${code}); last lines of ${child.logFile}:\n${await tail(
        child.logFile,
      )}`,
    );
  }
}

async function batch(run: Run, marker: BackfillMarker): Promise<BackfillMarker> {
  const { cfg, out } = run;
  if (marker.batchedAt) {
    out.done(`batch views of the past days: published ${marker.batchedAt.slice(0, 16)}Z`);
    return marker;
  }
  const dates = windowDates(marker);
  const t0 = Date.now();
  out.step(`batch jobs for ${dates[0]} … ${dates[dates.length - 1]} (DuckDB, one day at a time)`);
  await runBatch(run, ["--from", dates[0], "--to", dates[dates.length - 1]], dates.length, "days");
  const done = { ...marker, batchedAt: new Date().toISOString() };
  await writeMarker(cfg.dataDir, done);
  out.done(`batch views of ${dates.length} days published`, Date.now() - t0);
  return done;
}

/**
 * When an hour ended while the past days were generated and published, that hour was published
 * without events (nothing was archived for it) and live traffic would only start after it. Before
 * anything consumes the topics, the archive can still be extended: generate the missing hours,
 * then republish them hour by hour.
 */
async function extend(run: Run, marker: BackfillMarker, pop: Population): Promise<BackfillMarker> {
  const { cfg, dev, out } = run;
  for (let round = 1; floorHour(Date.now()) > marker.endMs && round <= 3; round++) {
    check(run);
    const t0 = Date.now();
    const window = { startMs: marker.endMs, endMs: floorHour(Date.now()) };
    out.step(
      `an hour ended meanwhile: adding ${toIso(window.startMs).slice(11, 16)} … ${
        toIso(window.endMs).slice(11, 16)
      } UTC to the past days`,
    );
    const added = await runBackfill(cfg, {
      window,
      population: pop,
      seed: dev.seed + round,
      eventsPerSec: dev.backfillEventsPerSec,
      signal: run.signal,
      previous: marker,
    });
    const hours: string[] = [];
    for (let h = window.startMs; h < window.endMs; h += HOUR_MS) {
      hours.push(`${toIso(h).slice(0, 10)} ${toIso(h).slice(11, 13)}:00`);
    }
    for (const [i, hour] of hours.entries()) {
      await runBatch(run, ["--hour", hour], 1, `of ${hours.length - i} hours`);
    }
    marker = { ...added, batchedAt: new Date().toISOString() };
    await writeMarker(cfg.dataDir, marker);
    out.done(`${hours.length} more hour(s) archived and published`, Date.now() - t0);
  }
  return marker;
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
    await ensureTopics(cfg);
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
