/**
 * @module
 * The steps of `deno task dev` before the platform runs: the local servers, `--reset`, a check
 * of an existing keyspace against the schema, the past days (dev/backfill.ts) and their batch
 * views.
 */
import type { ResolvedConfig } from "../shared/config.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { createKafka } from "../shared/kafka.ts";
import { floorHour, HOUR_MS, toIso } from "../shared/time.ts";
import { ensureLocalServers } from "../infra/local/mod.ts";
import { platformTopics } from "../infra/topics.ts";
import { createPopulation, type Population } from "../generator/population.ts";
import {
  type BackfillMarker,
  backfillWindow,
  decideBackfill,
  readMarker,
  runBackfill,
  windowDates,
  writeMarker,
} from "./backfill.ts";
import { startChild, stopChild, tail } from "./children.ts";
import type { ResolvedDevConfig } from "./config.ts";
import { missingColumns } from "./schema_check.ts";
import { formatCount, formatDuration, printerLogger } from "./ui.ts";
import { check, MARKER_VAR, REPO, type Run } from "./_run.ts";

/** Starts or reuses the local Kafka and Cassandra (none with `EDU_SERVERS=external`). */
export async function servers(run: Run): Promise<void> {
  if (run.dev.externalServers) {
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

/** `--reset`: drops the keyspace, deletes the topics and the consumer group, the data and outputs. */
export async function reset(run: Run): Promise<void> {
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
    const topics = platformTopics(cfg, cfg.enrichedTopic).filter((t) => present.has(t));
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
export async function schemaUpToDate(cfg: ResolvedConfig): Promise<void> {
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

/** Partitions of the input topics (as created; the live generator must use the same). */
export async function partitionsOf(cfg: ResolvedConfig): Promise<number> {
  const admin = createKafka(cfg, "edu-dev", { logLevel: "nothing" }).admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [cfg.topics.APP_EVENTS] });
    return md.topics[0].partitions.length;
  } finally {
    await admin.disconnect();
  }
}

/** The population of the past days (same users, courses, assessments), or a new one. */
export function population(dev: ResolvedDevConfig, marker: BackfillMarker | null, now: number) {
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

/** Puts the past days into the archive when it may (dev/backfill.ts); returns the marker. */
export async function backfill(
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

/** Publishes the batch views of the past days unless the marker says they are published. */
export async function batch(run: Run, marker: BackfillMarker): Promise<BackfillMarker> {
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
export async function extend(
  run: Run,
  marker: BackfillMarker,
  pop: Population,
): Promise<BackfillMarker> {
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
