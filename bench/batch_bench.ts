/**
 * @module
 * Batch benchmark (`deno task bench batch`): a day of generated events in the master dataset
 * (generated once into a cache directory), then
 * - all batch jobs for that day as `deno task batch` would run them (a child process): wall time,
 *   peak RSS (polled from /proc), events per second;
 * - the floor: a bare DuckDB group-by scan of the same files (a child process too), reading the
 *   columns the batch reads;
 * and the ratio of the two (goal ≤ 1.5). Before both, every archive file is read once so both find
 * it in the page cache (otherwise the first one measured pays the disk reads for the second). The
 * load average is printed with the figures: the machine is shared, and they vary with it.
 *
 * `BATCH_BENCH_EVENTS` (default 10000000) sets the size; `BATCH_BENCH_CACHE` the cache directory
 * (default `.state/bench/batch-<events>`).
 */
import { generate } from "../generator/mod.ts";
import { resolveConfig } from "../shared/config.ts";
import { createArchiveFixture } from "../batch/archive_fixture.ts";
import { cpuSeconds, peakRssBytes } from "../infra/local/process.ts";
import { listArchiveFiles } from "../shared/archive.ts";
import { DAY_MS, parseIsoDate } from "../shared/time.ts";

/** Options of {@link runBatchBench}. */
export interface BatchBenchOptions {
  /** Records generated for the day (valid ones are archived); default 10000000. */
  events?: number;
  /** Where the generated archive is kept between runs. */
  cacheDir?: string;
  /** The benchmark day; default 2025-01-15. */
  date?: string;
  /** Users in the population; default 100000. */
  users?: number;
  /** Print progress and results; default console.log. */
  print?: (line: string) => void;
}

/** What {@link runBatchBench} measured. */
export interface BatchBenchResult {
  events: number;
  archivedEvents: number;
  files: number;
  archiveBytes: number;
  /** Generation time when the cache was built in this run, else null. */
  generateMs: number | null;
  batchMs: number;
  /** CPU time (user + system, all threads; sampled every 25 ms) of the batch process. */
  batchCpuMs: number;
  batchPeakRssMiB: number;
  floorMs: number;
  floorCpuMs: number;
  floorPeakRssMiB: number;
  ratio: number;
  /** Batch CPU time ÷ floor CPU time: less sensitive than `ratio` to other work on the machine. */
  cpuRatio: number;
  eventsPerSecond: number;
}

const ROOT = new URL("..", import.meta.url).pathname;

async function ensureArchive(
  dataDir: string,
  o: Required<Pick<BatchBenchOptions, "events" | "date" | "users" | "print">>,
): Promise<{ generated: boolean; ms: number; archived: number }> {
  const marker = `${dataDir}/complete.json`;
  try {
    const m = JSON.parse(await Deno.readTextFile(marker));
    return { generated: false, ms: m.ms, archived: m.valid };
  } catch { /* build it */ }
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  const cfg = resolveConfig({ DATA_DIR: dataDir });
  const day = parseIsoDate(o.date);
  const now = day + 2 * DAY_MS;
  const fixture = createArchiveFixture(dataDir, { topics: cfg.topics, now, chunkRows: 25_000 });
  const t0 = performance.now();
  let n = 0;
  for (
    const r of generate({
      seed: 2025,
      users: o.users,
      courses: 200,
      startMs: day,
      endMs: day + DAY_MS,
      totalEvents: o.events,
      now,
    })
  ) {
    await fixture.add(r);
    if (++n % 1_000_000 === 0) {
      o.print(`  generated ${n} records (${Math.round((performance.now() - t0) / 1000)} s)`);
    }
  }
  const counts = await fixture.close();
  const ms = performance.now() - t0;
  await Deno.writeTextFile(marker, JSON.stringify({ ...counts, ms, events: o.events }));
  return { generated: true, ms, archived: counts.valid };
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  } catch {
    return "?";
  }
}

/** Runs `deno run -A <args>` and polls its peak RSS from /proc. */
async function measured(
  args: string[],
  env: Record<string, string>,
): Promise<{ ms: number; cpuMs: number; peakRssMiB: number; stdout: string; code: number }> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    env,
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let peak = 0;
  let cpu = 0;
  const poll = setInterval(() => {
    peak = Math.max(peak, peakRssBytes(child.pid));
    cpu = Math.max(cpu, cpuSeconds(child.pid));
  }, 25);
  const out = await child.output();
  clearInterval(poll);
  return {
    ms: performance.now() - t0,
    cpuMs: Math.round(cpu * 1000),
    peakRssMiB: peak / 2 ** 20,
    stdout: new TextDecoder().decode(out.stdout),
    code: out.code,
  };
}

/** The floor: one DuckDB group-by over the same files and columns, in a fresh process. */
const FLOOR_SCRIPT = `
import { DuckDBInstance } from "@duckdb/node-api";
const files = JSON.parse(await Deno.readTextFile(Deno.args[0]));
const db = await DuckDBInstance.create(":memory:");
const c = await db.connect();
const list = files.map((f) => "'" + f + "'").join(",");
const r = await c.runAndReadAll(\`SELECT topic, hour, count(*), count(DISTINCT event_id),
  count(DISTINCT user_id), max(kafka_ts), max("offset"), max(event_time), count(action),
  count(session_id), count(device), count(course_id), count(video_id), count(assessment_id),
  sum(score), sum(max_score), sum(watched_sec), count(channel), count(event_type),
  count(app_type), count(page_url), count(notification_id)
  FROM read_parquet([\${list}], union_by_name = true, hive_partitioning = true,
    hive_types = {'topic': VARCHAR, 'date': VARCHAR, 'hour': INTEGER})
  GROUP BY topic, hour\`);
console.log(JSON.stringify({ groups: r.rowCount }));
`;

/**
 * Builds (or reuses) the archive of one day and measures the batch against the DuckDB floor.
 */
export async function runBatchBench(options: BatchBenchOptions = {}): Promise<BatchBenchResult> {
  const events = options.events ?? Number(Deno.env.get("BATCH_BENCH_EVENTS") ?? 10_000_000);
  const date = options.date ?? "2025-01-15";
  const print = options.print ?? console.log;
  const cacheDir = options.cacheDir ?? Deno.env.get("BATCH_BENCH_CACHE") ??
    `${ROOT}.state/bench/batch-${events}`;
  const dataDir = `${cacheDir}/data`;
  print(`batch bench: ${events} events on ${date}, cache ${cacheDir}`);
  const gen = await ensureArchive(dataDir, {
    events,
    date,
    users: options.users ?? 100_000,
    print,
  });
  print(
    gen.generated
      ? `  archive generated in ${(gen.ms / 1000).toFixed(1)} s`
      : `  archive from cache (generated earlier in ${(gen.ms / 1000).toFixed(1)} s)`,
  );
  const files = await listArchiveFiles(dataDir);
  let bytes = 0;
  for (const f of files) bytes += (await Deno.stat(f.path)).size;
  for (const f of files) await Deno.readFile(f.path);
  const outputsDir = `${cacheDir}/outputs-${Date.now()}`;
  const loadBefore = loadAverage();
  const env = { DATA_DIR: dataDir, OUTPUTS_DIR: outputsDir, LOG_LEVEL: "warn" };
  const batch = await measured(["batch/main.ts", "--date", date], env);
  if (batch.code !== 0) throw new Error(`batch failed with exit code ${batch.code}`);
  const listFile = `${cacheDir}/files.json`;
  await Deno.writeTextFile(listFile, JSON.stringify(files.map((f) => f.path)));
  const script = `${cacheDir}/floor.ts`;
  await Deno.writeTextFile(script, FLOOR_SCRIPT);
  const floor = await measured(["--config", `${ROOT}deno.json`, script, listFile], env);
  if (floor.code !== 0) throw new Error(`floor scan failed with exit code ${floor.code}`);
  await Deno.remove(outputsDir, { recursive: true }).catch(() => {});
  const result: BatchBenchResult = {
    events,
    archivedEvents: gen.archived,
    files: files.length,
    archiveBytes: bytes,
    generateMs: gen.generated ? gen.ms : null,
    batchMs: batch.ms,
    batchCpuMs: batch.cpuMs,
    batchPeakRssMiB: batch.peakRssMiB,
    floorMs: floor.ms,
    floorCpuMs: floor.cpuMs,
    floorPeakRssMiB: floor.peakRssMiB,
    ratio: batch.ms / floor.ms,
    cpuRatio: batch.cpuMs / floor.cpuMs,
    eventsPerSecond: gen.archived / (batch.ms / 1000),
  };
  print(
    `  archive: ${gen.archived} events in ${files.length} files, ${
      (bytes / 2 ** 20).toFixed(0)
    } MiB`,
  );
  print(
    `  batch (all jobs): ${(batch.ms / 1000).toFixed(1)} s (CPU ${
      (batch.cpuMs / 1000).toFixed(1)
    } s), peak RSS ${batch.peakRssMiB.toFixed(0)} MiB, ${
      Math.round(result.eventsPerSecond)
    } events/s`,
  );
  print(
    `  floor (DuckDB group-by scan): ${(floor.ms / 1000).toFixed(1)} s (CPU ${
      (floor.cpuMs / 1000).toFixed(1)
    } s), peak RSS ${floor.peakRssMiB.toFixed(0)} MiB`,
  );
  print(`  ratio batch/floor: ${result.ratio.toFixed(2)} (goal ≤ 1.5)`);
  print(`  CPU time ratio batch/floor: ${result.cpuRatio.toFixed(2)}`);
  print(`  load average (1 min) before / after: ${loadBefore} / ${loadAverage()}`);
  return result;
}

if (import.meta.main) await runBatchBench();
