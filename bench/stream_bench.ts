/**
 * @module
 * Stream benchmark (`deno task bench stream`), against the real local Kafka and Cassandra:
 *
 * (a) throughput: `STREAM_BENCH_EVENTS` (default 1 000 000) generated events (all topics, the
 *     usual shares of malformed, duplicate, out-of-order and late records) are produced first;
 *     then `deno task process` (a child process, the realtime view jobs) starts and we measure the
 *     sustained events/s until every view job's checkpoint covers every partition (all rows
 *     written), and its peak RSS. Kafka's own `org.apache.kafka.tools.ConsumerPerformance` then
 *     reads the same topics; we print the ratio (goal ≥ 0.3).
 * (b) latency: a fresh processor under a steady `STREAM_BENCH_RATE` (default 5000) events/s for
 *     `STREAM_BENCH_SECONDS` (default 60) after a 10 s warm-up; p50/p99 of event-to-view latency
 *     (row write completed − Kafka timestamp), goal p99 < 1 s.
 *
 * With `STREAM_BENCH_PROFILE=1` (default) run (a) is CPU-profiled (`--cpu-prof`) and the self time
 * per area and function is printed.
 */
import { TOPIC_KEYS } from "../shared/config.ts";
import { createKafka } from "../shared/kafka.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { generate, type GeneratedRecord } from "../generator/generate.ts";
import { produceRecords } from "../generator/produce.ts";
import { ensureJars, KAFKA_TOOLS_DIST } from "../infra/local/jars.ts";
import { cpuSeconds, java17, peakRssBytes } from "../infra/local/mod.ts";
import { ensureServers, isolatedTestEnv, type TestEnv } from "../tests/_servers.ts";
import { startProcessor } from "../processors/testing/processor_child.ts";
import { checkpointProgress, endOffsets } from "../processors/testing/progress.ts";
import { VIEW_JOBS, viewJobsOn } from "../processors/testing/jobs.ts";
import { sleep } from "../processors/testing/until.ts";
import { type ProfileSummary, summarizeProfile } from "../processors/testing/cpu_profile.ts";

/** Options of {@link runStreamBench}; every default can be set by the environment. */
export interface StreamBenchOptions {
  /** Events of run (a); default `STREAM_BENCH_EVENTS` or 1000000. */
  events?: number;
  /** Events/s of run (b); default `STREAM_BENCH_RATE` or 5000. */
  rate?: number;
  /** Measured seconds of run (b); default `STREAM_BENCH_SECONDS` or 60. */
  seconds?: number;
  /** CPU-profile run (a); default `STREAM_BENCH_PROFILE` != "0". */
  profile?: boolean;
  /** Skip run (a) or (b). */
  skip?: ("throughput" | "latency")[];
  /** Print progress and results; default console.log. */
  print?: (line: string) => void;
}

/** What {@link runStreamBench} measured. */
export interface StreamBenchResult {
  throughput?: {
    events: number;
    seconds: number;
    eventsPerSec: number;
    /** From the first record read to the last checkpoint (start-up excluded). */
    processingEventsPerSec: number;
    peakRssBytes: number;
    rowsWritten: number;
    flushes: number;
    kafkaConsumerPerformance: { messages: number; seconds: number; msgsPerSec: number };
    ratio: number;
    profile?: ProfileSummary;
  };
  latency?: {
    rate: number;
    seconds: number;
    events: number;
    count: number;
    p50Ms: number | null;
    p99Ms: number | null;
    maxMs: number;
    /** 1, 5 and 15 minute load averages when production started and at the end. */
    loadAverage: { before: number[]; after: number[] };
    /** CPU time of the processor from the start of production to the last checkpoint. */
    processorCpuSeconds: number;
  };
}

const JOBS = VIEW_JOBS.map((j) => j.name);

function envNumber(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new RangeError(`${name}=${JSON.stringify(raw)}: expected a positive number`);
  }
  return n;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

/** Runs Kafka's ConsumerPerformance over each topic; messages and fetch time summed. */
async function consumerPerformance(
  env: TestEnv,
  topics: string[],
  counts: Map<string, number>,
): Promise<{ messages: number; seconds: number; msgsPerSec: number }> {
  const cp = (await ensureJars(KAFKA_TOOLS_DIST)).join(":");
  let messages = 0, ms = 0;
  for (const topic of topics) {
    const n = counts.get(topic) ?? 0;
    if (n === 0) continue;
    const out = await new Deno.Command(java17(), {
      args: [
        "-Xmx512m",
        "-cp",
        cp,
        "org.apache.kafka.tools.ConsumerPerformance",
        "--bootstrap-server",
        env.cfg.kafkaBrokers.join(","),
        "--topic",
        topic,
        "--messages",
        String(n),
        "--group",
        `perf-${crypto.randomUUID()}`,
        "--timeout",
        "30000",
        "--hide-header",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) =>
      l.includes(",")
    );
    if (!out.success || text.length === 0) {
      throw new Error(
        `ConsumerPerformance failed on ${topic}: ${
          new TextDecoder().decode(out.stderr).slice(-500)
        }`,
      );
    }
    // start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, ...
    const f = text[text.length - 1].split(",").map((s) => s.trim());
    messages += Number(f[4]);
    ms += Number(f[7]);
  }
  return { messages, seconds: ms / 1000, msgsPerSec: messages / Math.max(0.001, ms / 1000) };
}

/**
 * An isolated environment with its own Kafka and Cassandra clients; topic creation is retried once
 * (leaders settle slowly under load). `close` shuts the Cassandra client and removes the environment.
 */
async function benchEnv(logLevel: string, kafkaClientId: string) {
  const env = isolatedTestEnv({ env: { LOG_LEVEL: logLevel } });
  try {
    await env.setup();
  } catch {
    await sleep(2_000);
    await env.setup();
  }
  const client = createCassandraClient(env.cfg);
  return {
    env,
    cfg: env.cfg,
    kafka: createKafka(env.cfg, kafkaClientId),
    client,
    async close(): Promise<void> {
      await client.shutdown().catch(() => {});
      await env.cleanup();
    },
  };
}

async function throughputRun(o: Required<Omit<StreamBenchOptions, "skip">>) {
  const print = o.print;
  const { env, cfg, kafka, client, close } = await benchEnv("info", "stream-bench");
  const profDir = await Deno.makeTempDir({ prefix: "stream-bench-prof-" });
  try {
    const now = Date.now();
    let t = performance.now();
    const records: GeneratedRecord[] = [...generate({
      seed: 42,
      users: Math.max(1000, Math.round(o.events / 50)),
      courses: 50,
      startMs: now - 6 * 3_600_000,
      endMs: now,
      now,
      totalEvents: o.events,
      partitions: cfg.topicPartitions,
    })];
    print(
      `(a) generated ${fmt(records.length)} records in ${fmt((performance.now() - t) / 1000, 1)} s`,
    );
    t = performance.now();
    await produceRecords(cfg, records, { kafka, batchSize: 5000 });
    print(`(a) produced them in ${fmt((performance.now() - t) / 1000, 1)} s`);
    const inputs = TOPIC_KEYS.map((k) => cfg.topics[k]);
    const ends = await endOffsets(kafka, inputs);
    const counts = new Map(
      [...ends].map(([topic, parts]) => [topic, [...parts.values()].reduce((a, b) => a + b, 0)]),
    );
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const jobs = viewJobsOn(cfg.topics);

    const t0 = performance.now();
    const proc = await startProcessor(env.env, {
      jobs: JOBS,
      denoFlags: o.profile ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [],
    });
    let firstRecordAt: number | undefined, peak = 0, last = 0;
    for (;;) {
      const h = await proc.health().catch(() => undefined);
      if (h && firstRecordAt === undefined && h.stats.records > 0) {
        firstRecordAt = performance.now();
      }
      peak = Math.max(peak, peakRssBytes(proc.pid));
      const p = await checkpointProgress(client, cfg.consumerGroup, jobs, ends).catch(() =>
        undefined
      );
      if (p && p.done === p.total) break;
      if (h && performance.now() - last > 10_000) {
        last = performance.now();
        print(
          `(a) … ${fmt(h.stats.records)} records read, ${
            fmt(h.stats.rowsWritten)
          } rows written, ${p?.done}/${p?.total} partitions covered`,
        );
      }
      await sleep(250);
    }
    const t1 = performance.now();
    peak = Math.max(peak, peakRssBytes(proc.pid));
    const h = await proc.health();
    proc.kill("SIGTERM");
    await proc.status;
    const seconds = (t1 - t0) / 1000;
    const processing = (t1 - (firstRecordAt ?? t0)) / 1000;
    print(
      `(a) deno task process: ${fmt(total)} events in ${fmt(seconds, 1)} s = ${
        fmt(total / seconds)
      } events/s (${fmt(total / processing)} events/s from the first record), peak RSS ${
        fmt(peak / 2 ** 20)
      } MiB, ${fmt(h.stats.rowsWritten)} rows in ${fmt(h.stats.flushes)} flushes`,
    );

    const perf = await consumerPerformance(env, inputs, counts);
    const ratio = (total / seconds) / perf.msgsPerSec;
    print(
      `(a) Kafka ConsumerPerformance: ${fmt(perf.messages)} messages in ${
        fmt(perf.seconds, 1)
      } s of fetching = ${fmt(perf.msgsPerSec)} msgs/s`,
    );
    print(`(a) ratio processors / ConsumerPerformance = ${fmt(ratio, 3)} (goal ≥ 0.3)`);

    let profile: ProfileSummary | undefined;
    if (o.profile) {
      const files = [...Deno.readDirSync(profDir)].filter((f) => f.name.endsWith(".cpuprofile"));
      if (files.length > 0) {
        profile = await summarizeProfile(`${profDir}/${files[0].name}`);
        print(
          `(a) CPU profile of the processor (${
            fmt(profile.totalMs / 1000, 1)
          } s sampled), self time by area:`,
        );
        for (const a of profile.areas.slice(0, 12)) {
          print(`      ${(a.share * 100).toFixed(1).padStart(5)} %  ${a.name}`);
        }
        print(`    top functions:`);
        for (const f of profile.functions.slice(0, 15)) {
          print(`      ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}`);
        }
      } else print("(a) no CPU profile written");
    }
    return {
      events: total,
      seconds,
      eventsPerSec: total / seconds,
      processingEventsPerSec: total / processing,
      peakRssBytes: peak,
      rowsWritten: h.stats.rowsWritten,
      flushes: h.stats.flushes,
      kafkaConsumerPerformance: perf,
      ratio,
      profile,
    };
  } finally {
    await close();
    await Deno.remove(profDir, { recursive: true }).catch(() => {});
  }
}

async function latencyRun(o: Required<Omit<StreamBenchOptions, "skip">>) {
  const print = o.print;
  const { env, cfg, kafka, client, close } = await benchEnv("warn", "stream-bench-latency");
  try {
    // Generate first (it takes seconds under load): a processor already consuming while the
    // records are generated would meet a burst of overdue records instead of a steady rate.
    const warmup = 10;
    const span = (warmup + o.seconds) * 1000;
    const base = Date.now();
    let t = performance.now();
    const records = [...generate({
      seed: 43,
      users: 20_000,
      courses: 50,
      startMs: base,
      endMs: base + span,
      now: base + span,
      totalEvents: Math.round(o.rate * (warmup + o.seconds)),
      partitions: cfg.topicPartitions,
      diurnal: false,
      tooLarge: false,
    })];
    print(
      `(b) generated ${fmt(records.length)} records in ${fmt((performance.now() - t) / 1000, 1)} s`,
    );
    const profDir = Deno.env.get("STREAM_BENCH_LATENCY_PROFILE_DIR");
    const proc = await startProcessor({ ...env.env, LOG_LEVEL: "info" }, {
      jobs: JOBS,
      logFile: Deno.env.get("STREAM_BENCH_LOG"),
      denoFlags: profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [],
    });
    try {
      for (let i = 0; i < 600; i++) {
        const h = await proc.health();
        if (h.assignedPartitions > 0) break;
        await sleep(100);
      }
      // Pace by the generated arrival times, shifted to start 1 s from now (event times stay as
      // generated, a few seconds in the past: only Kafka timestamps enter the latency).
      const start = Date.now() + 1_000;
      const shift = start - base;
      const loadBefore = Deno.loadavg();
      const cpuBefore = cpuSeconds(proc.pid);
      t = performance.now();
      print(
        `(b) producing ${fmt(records.length)} records at ${
          fmt(o.rate)
        }/s for ${warmup} s warm-up + ${o.seconds} s (load average ${
          loadBefore.map((x) => x.toFixed(2)).join(", ")
        })`,
      );
      let reset = false;
      await produceRecords(cfg, records, {
        kafka,
        batchSize: Math.max(50, Math.round(o.rate / 20)),
        async beforeBatch(batch) {
          // Pace by the generated arrival times (capped: late arrivals are generated far after
          // the span), and stamp each record with the real send time as its Kafka timestamp.
          const due = Math.min(batch[batch.length - 1].kafkaTs + shift, start + span);
          const wait = due - Date.now();
          if (wait > 0) await sleep(wait);
          const now = Date.now();
          for (const r of batch) r.kafkaTs = now;
          if (!reset && now >= start + warmup * 1000) {
            reset = true;
            await proc.resetLatency();
          }
        },
      });
      const ends = await endOffsets(kafka, TOPIC_KEYS.map((k) => cfg.topics[k]));
      const jobs = viewJobsOn(cfg.topics);
      for (let i = 0; i < 1200; i++) {
        const p = await checkpointProgress(client, cfg.consumerGroup, jobs, ends).catch(() =>
          undefined
        );
        if (p && p.done === p.total) break;
        await sleep(250);
      }
      const h = await proc.health();
      const l = h.eventToViewMs;
      const loadAfter = Deno.loadavg();
      const cpu = cpuSeconds(proc.pid) - cpuBefore;
      const wall = (performance.now() - t) / 1000;
      print(
        `(b) event-to-view latency at ${fmt(o.rate)} events/s: p50 ${fmt(l.p50 ?? NaN)} ms, p99 ${
          fmt(l.p99 ?? NaN)
        } ms, max ${fmt(l.max)} ms over ${fmt(l.count)} events (goal p99 < 1000 ms); load average ${
          loadAfter.map((x) => x.toFixed(2)).join(", ")
        } at the end, ${fmt(h.stats.rowsWritten)} rows in ${fmt(h.stats.flushes)} flushes`,
      );
      const perTable = [...(await proc.metrics()).matchAll(
        /^processor_rows_written_total\{table="([^"]+)"\} (\d+)/gm,
      )].map((m) => [m[1], Number(m[2])] as const).sort((a, b) => b[1] - a[1]);
      print(
        `(b) rows per event by table: ${
          perTable.map(([t, n]) => `${t} ${(n / records.length).toFixed(2)}`).join(", ")
        }`,
      );
      print(
        `(b) processor CPU ${fmt(cpu, 1)} s over ${fmt(wall, 1)} s (${
          fmt((cpu * 1e6) / records.length)
        } µs per event, ${fmt((cpu * 1e6) / Math.max(1, h.stats.rowsWritten), 1)} µs per row)`,
      );
      return {
        rate: o.rate,
        seconds: o.seconds,
        events: records.length,
        count: l.count,
        p50Ms: l.p50,
        p99Ms: l.p99,
        maxMs: l.max,
        loadAverage: { before: loadBefore, after: loadAfter },
        processorCpuSeconds: cpu,
      };
    } finally {
      proc.kill("SIGTERM");
      await proc.status;
    }
  } finally {
    await close();
  }
}

/** Runs the stream benchmark and prints its figures. */
export async function runStreamBench(options: StreamBenchOptions = {}): Promise<StreamBenchResult> {
  const o = {
    events: options.events ?? envNumber("STREAM_BENCH_EVENTS", 1_000_000),
    rate: options.rate ?? envNumber("STREAM_BENCH_RATE", 5000),
    seconds: options.seconds ?? envNumber("STREAM_BENCH_SECONDS", 60),
    profile: options.profile ?? Deno.env.get("STREAM_BENCH_PROFILE") !== "0",
    print: options.print ?? ((l: string) => console.log(l)),
  };
  await ensureServers();
  const skip = new Set(options.skip ?? []);
  const result: StreamBenchResult = {};
  if (!skip.has("throughput")) result.throughput = await throughputRun(o);
  if (!skip.has("latency")) result.latency = await latencyRun(o);
  return result;
}

if (import.meta.main) {
  await runStreamBench();
}
