/**
 * @module
 * `deno task bench serve` (or `deno run -A bench/serve_bench.ts`): load on the serving layer.
 *
 * Builds a real data set — seven days of generated traffic of a 100 000-user population, archived
 * and published by the batch layer (Parquet), and the realtime rows after batchThrough (the
 * reference calculator's expected rows, written to Cassandra with a live stream_status) — starts
 * `serving/main.ts` as a child process (production mode, bearer token), and drives it with
 * autocannon at fixed concurrency: a trivial `{ __typename }` reference, a 24-hour HOUR
 * eventCounts crossing batchThrough, a 7-day DAY courseEngagement and userSegment lookups of every
 * user with a segment in a shuffled order. Prints req/s, p50/p99 latency, the serving process's
 * peak RSS and each query's throughput as a ratio of the reference's. Scenarios are interleaved in
 * rounds and medians reported, so load from other processes skews them alike.
 *
 * Environment: `BENCH_CONNECTIONS` (16), `BENCH_DURATION_SEC` (15 per scenario), `BENCH_ROUNDS`
 * (3), `BENCH_USERS` (100000), `BENCH_ONLY=a,b` (only scenarios whose names contain a or b),
 * `BENCH_PROFILE_DIR=dir` (a V8 CPU profile of the server per scenario, via the inspector).
 */
import autocannon from "autocannon";
import { Buffer } from "node:buffer";
import type { Client } from "cassandra-driver";
import { runBatch } from "../batch/run.ts";
import { generate } from "../generator/generate.ts";
import { Reference, type Row } from "../generator/reference.ts";
import { ensureLocalServers, peakRssBytes } from "../infra/local/mod.ts";
import { applySchema } from "../infra/schema.ts";
import { withOffsets, writeMasterDataset } from "../serving/testing/master_fixture.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { resolveConfig, type ResolvedConfig, TOPIC_KEYS } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { DistinctSketch, QuantileSketch } from "../shared/sketch/mod.ts";
import { DAY_MS, floorDay, floorHour, HOUR_MS, isoDate, MINUTE_MS } from "../shared/time.ts";

/** Options of {@link runServeBench}. */
export interface ServeBenchOptions {
  /** Concurrent connections; default 16. */
  connections?: number;
  /** Seconds per scenario in total, split over the rounds (after a 3 s warm-up); default 15. */
  durationSec?: number;
  /** Rounds through all scenarios; default 3. */
  rounds?: number;
  /** Generated events per second of event time; default 0.1. */
  rate?: number;
  /** Users in the generated population, all of them looked up by userSegment; default 100 000. */
  users?: number;
  /** Only the scenarios whose name contains one of these (the reference always runs). */
  only?: string[];
  /**
   * Writes a V8 CPU profile of the server per scenario to `<dir>/<n>.cpuprofile`, in a pass before
   * the rounds.
   */
  profileDir?: string;
}

/** Takes a V8 CPU profile of a process started with `--inspect` (Chrome DevTools Protocol). */
async function cpuProfile(inspectPort: number, during: () => Promise<unknown>): Promise<string> {
  const list = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const ws = new WebSocket(list[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 0;
  const waiting = new Map<number, (r: unknown) => void>();
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data));
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  };
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  await during();
  const { profile } = await call("Profiler.stop") as { profile: unknown };
  ws.close();
  return JSON.stringify(profile);
}

/** One scenario's figures. */
export interface ScenarioResult {
  name: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** requestsPerSec divided by the reference's. */
  ratio: number;
}

/** What {@link runServeBench} measured. */
export interface ServeBenchResult {
  scenarios: ScenarioResult[];
  peakRssBytes: number;
  batchThrough: string;
}

const TOKEN = "bench-token";
const SKETCH_COLUMNS = new Set(["active_users", "unique_viewers"]);
const TIME_COLUMNS = new Set([
  "hour",
  "minute",
  "window_start",
  "last_seen",
  "session_start",
  "session_end",
]);
const TABLES = [
  "app_event_counts_rt",
  "events_aggregated_realtime",
  "realtime_user_activity",
  "realtime_course_engagement",
  "realtime_video_views",
  "realtime_assessment_scores",
  "clickstream_sessions",
] as const;
const WITH_TOPIC = new Set(["realtime_user_activity", "realtime_course_engagement"]);

function cqlValue(column: string, v: Row[string]): unknown {
  if (v === null) return null;
  if (SKETCH_COLUMNS.has(column)) return Buffer.from(DistinctSketch.of(v as string[]).serialize());
  if (TIME_COLUMNS.has(column)) return new Date(v as number);
  return v;
}

/** Writes the reference's expected realtime rows at or after `since` (one partition, kpart 0). */
async function loadRealtime(client: Client, ref: Reference, since: number): Promise<number> {
  let n = 0;
  for (const table of TABLES) {
    const rows = ref.realtimeRows(table).filter((r) =>
      Number(r.minute ?? r.window_start ?? r.session_start) >= since
    );
    const pending: Promise<unknown>[] = [];
    for (const r of rows) {
      const row: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) {
        if (k === "percents") {
          row.percent_sketch = Buffer.from(QuantileSketch.of(v as number[]).serialize());
        } else row[k] = cqlValue(k, v);
      }
      if (table === "clickstream_sessions") row.closed = true;
      row.kpart = 0;
      if (WITH_TOPIC.has(table)) row.topic = "bench";
      const cols = Object.keys(row);
      pending.push(client.execute(
        `INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(", ")}) VALUES (${
          cols.map(() => "?").join(", ")
        })`,
        cols.map((c) => row[c]),
        { prepare: true },
      ));
      if (pending.length >= 256) await Promise.all(pending.splice(0));
      n++;
    }
    await Promise.all(pending);
  }
  return n;
}

/** Keeps one live stream_status row per input topic, as running processors would. */
function keepStatusLive(client: Client, cfg: ResolvedConfig, newest: number): () => void {
  const write = () =>
    Promise.all(TOPIC_KEYS.map((k) =>
      client.execute(
        "INSERT INTO stream_status (consumer_group, topic, kpart, watermark, max_event_time, " +
          "next_offset, end_offset, lag, last_data_at, owner, updated_at) " +
          "VALUES (?, ?, 0, ?, ?, 0, 0, 0, ?, 'bench', ?)",
        [
          cfg.consumerGroup,
          cfg.topics[k],
          newest - cfg.allowedLatenessMs,
          newest,
          new Date(),
          new Date(),
        ],
        { prepare: true },
      )
    )).catch(() => {});
  write();
  const timer = setInterval(write, 2000);
  return () => clearInterval(timer);
}

async function waitReady(base: string, child: Deno.ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/ready`);
      last = await r.text();
      if (r.status === 200) return;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill("SIGTERM");
  throw new Error(`serving did not become ready: ${last}`);
}

/**
 * Runs the benchmark and prints its table.
 * @param options concurrency, duration and data volume
 */
export async function runServeBench(options: ServeBenchOptions = {}): Promise<ServeBenchResult> {
  const connections = options.connections ?? 16;
  const duration = options.durationSec ?? 15;
  const rounds = options.rounds ?? 3;
  const log = createLogger({ name: "serve-bench", level: "info" });
  const servers = await ensureLocalServers({ allowForeign: true, log });
  const id = `b${crypto.randomUUID().slice(0, 8)}`;
  const dir = await Deno.makeTempDir({ prefix: "serve-bench-" });
  const env: Record<string, string> = {
    CASSANDRA_KEYSPACE: `bench_${id}`,
    CONSUMER_GROUP: `bench_${id}`,
    DATA_DIR: `${dir}/data`,
    OUTPUTS_DIR: `${dir}/outputs`,
    APP_ENV: "production",
    SERVING_TOKENS: TOKEN,
    LOG_LEVEL: "warn",
  };
  for (const v of ["CASSANDRA_HOST", "CASSANDRA_PORT", "CASSANDRA_LOCAL_DC"]) {
    const x = Deno.env.get(v);
    if (x !== undefined) env[v] = x;
  }
  const cfg = resolveConfig(env);
  await applySchema(cfg);
  const client = createCassandraClient(cfg);
  let child: Deno.ChildProcess | undefined;
  let stopStatus = () => {};
  try {
    const now = Date.now();
    const today = floorDay(now);
    const start = today - 6 * DAY_MS;
    const end = now - MINUTE_MS;
    const hoursToday = Math.max(1, Math.floor((now - 2 * MINUTE_MS - today) / HOUR_MS) - 1);
    log.info("generating and publishing 7 days", { rate: options.rate ?? 0.1 });
    const records = withOffsets(generate({
      seed: 42,
      users: options.users ?? 100_000,
      courses: 20,
      startMs: start,
      endMs: end,
      now: end,
      eventsPerSecond: options.rate ?? 0.1,
      tooLarge: false,
    }));
    await writeMasterDataset(cfg, records, end);
    const dates = Array.from({ length: 7 }, (_, i) => isoDate(start + i * DAY_MS));
    const published = Math.min(hoursToday, Math.floor((end - today) / HOUR_MS));
    await runBatch(cfg, {
      dates,
      hours: { [isoDate(today)]: Array.from({ length: published }, (_, h) => h) },
    }, { threads: 2 });
    const B = today + published * HOUR_MS;
    const ref = new Reference(records, { now: end });
    const rows = await loadRealtime(client, ref, B - HOUR_MS);
    stopStatus = keepStatusLive(client, cfg, end);
    log.info("data ready", {
      records: records.length,
      users: ref.userIds().length,
      realtimeRows: rows,
      batchThrough: new Date(B),
    });

    const freePort = () => {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (l.addr as Deno.NetAddr).port;
      l.close();
      return port;
    };
    const port = freePort();
    const inspectPort = options.profileDir ? freePort() : 0;
    child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        ...(options.profileDir ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
        new URL("../serving/main.ts", import.meta.url).pathname,
      ],
      env: { ...env, PORT: String(port) },
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, child);

    const iso = (t: number) => new Date(t).toISOString();
    const course = [...new Set(ref.sets.batch.map((e) => e.courseId).filter(Boolean))][0];
    // Every user with events, in a fixed pseudo-random order (no locality between lookups).
    const users = ref.userIds();
    for (let i = users.length - 1, x = 42; i > 0; i--) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const j = x % (i + 1);
      [users[i], users[j]] = [users[j], users[i]];
    }
    const weekEnd = floorHour(now) + HOUR_MS;
    const all: { name: string; body: (i: number) => string }[] = [
      { name: "reference { __typename }", body: () => JSON.stringify({ query: "{ __typename }" }) },
      {
        name: "eventCounts 24 h HOUR across batchThrough",
        body: () =>
          JSON.stringify({
            query:
              `query($f: DateTime!, $t: DateTime!) { eventCounts(from: $f, to: $t, granularity: HOUR) { total points { start source count } provenance { complete batchThrough } } }`,
            variables: {
              f: iso(Math.min(B - 12 * HOUR_MS, weekEnd - 24 * HOUR_MS)),
              t: iso(Math.min(B + 12 * HOUR_MS, weekEnd)),
            },
          }),
      },
      {
        name: "courseEngagement 7 days DAY",
        body: () =>
          JSON.stringify({
            query:
              `query($c: ID!, $f: DateTime!, $t: DateTime!) { courseEngagement(courseId: $c, from: $f, to: $t, granularity: DAY) { total { enrollments activeUsers } points { start source enrollments completions activeUsers } provenance { complete } } }`,
            variables: { c: course, f: iso(weekEnd - 7 * DAY_MS), t: iso(weekEnd) },
          }),
      },
      {
        name: "userSegment lookup",
        body: (i) =>
          JSON.stringify({
            query:
              `query($u: ID!) { userSegment(userId: $u) { userId date segment engagementScore } }`,
            variables: { u: users[i % users.length] },
          }),
      },
    ];
    const scenarios = all.filter((s, k) =>
      k === 0 || !options.only || options.only.some((o) => s.name.includes(o))
    );
    const headers = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
    for (const s of scenarios) {
      const r = await fetch(`${base}/graphql`, { method: "POST", headers, body: s.body(0) });
      const json = await r.json();
      if (r.status !== 200 || json.errors) {
        throw new Error(`${s.name}: ${r.status} ${JSON.stringify(json.errors)}`);
      }
    }
    // Rounds cycle through every scenario, so a change in the machine's load (other processes)
    // hits all of them alike; each figure is the median over the rounds.
    const run = (s: (typeof scenarios)[number], seconds: number) => {
      let i = 0;
      return autocannon({
        url: `${base}/graphql`,
        connections,
        duration: seconds,
        requests: [{
          method: "POST",
          headers,
          setupRequest: (req: Record<string, unknown>) => ({ ...req, body: s.body(i++) }),
        }],
      });
    };
    for (const s of scenarios) await run(s, 3); // warm-up: JIT, caches
    if (options.profileDir) {
      await Deno.mkdir(options.profileDir, { recursive: true });
      for (const [k, s] of scenarios.entries()) {
        const profile = await cpuProfile(inspectPort, () => run(s, duration));
        await Deno.writeTextFile(`${options.profileDir}/${k}.cpuprofile`, profile);
        console.log(`profile of ${s.name}: ${options.profileDir}/${k}.cpuprofile`);
      }
    }
    const per = scenarios.map(() => [] as Awaited<ReturnType<typeof run>>[]);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < scenarios.length; k++) {
        per[k].push(await run(scenarios[k], Math.max(1, Math.round(duration / rounds))));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const results: ScenarioResult[] = scenarios.map((s, k) => ({
      name: s.name,
      requestsPerSec: median(per[k].map((r) => r.requests.average)),
      p50Ms: median(per[k].map((r) => r.latency.p50)),
      p99Ms: median(per[k].map((r) => r.latency.p99)),
      errors: per[k].reduce((n, r) => n + r.errors + r.non2xx + r.timeouts, 0),
      ratio: 0,
    }));
    for (const r of results) r.ratio = r.requestsPerSec / results[0].requestsPerSec;
    const spread = per[0].map((r) => Math.round(r.requests.average));
    const peakRss = peakRssBytes(child.pid);
    console.log(
      `\nserving benchmark: ${connections} connections, ${rounds} rounds × ` +
        `${Math.round(duration / rounds)} s per scenario (medians), batchThrough ${iso(B)}, ` +
        `serving peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, ` +
        `reference req/s per round ${spread.join(" / ")}`,
    );
    console.table(results.map((r) => ({
      scenario: r.name,
      "req/s": Math.round(r.requestsPerSec),
      "p50 ms": r.p50Ms,
      "p99 ms": r.p99Ms,
      errors: r.errors,
      "vs reference": `${(r.ratio * 100).toFixed(1)} %`,
    })));
    return { scenarios: results, peakRssBytes: peakRss, batchThrough: iso(B) };
  } finally {
    stopStatus();
    if (child) {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await child.status;
    }
    await client.execute(`DROP KEYSPACE IF EXISTS ${cfg.cassandraKeyspace}`).catch(() => {});
    await client.shutdown().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await servers.stop();
  }
}

if (import.meta.main) {
  await runServeBench({
    connections: Number(Deno.env.get("BENCH_CONNECTIONS") ?? 16),
    durationSec: Number(Deno.env.get("BENCH_DURATION_SEC") ?? 15),
    rounds: Number(Deno.env.get("BENCH_ROUNDS") ?? 3),
    users: Number(Deno.env.get("BENCH_USERS") ?? 100_000),
    only: Deno.env.get("BENCH_ONLY")?.split(","),
    profileDir: Deno.env.get("BENCH_PROFILE_DIR"),
  });
}
