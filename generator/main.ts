/**
 * @module
 * `deno task generate`: realistic traffic for the platform, produced to Kafka and/or written as
 * JSON lines. History (`--days-back N` or `--from/--to`) is generated first, as fast as Kafka
 * takes it; then, with `--rate R`, live traffic paced to the wall clock until Ctrl-C or
 * `--duration`. Progress is logged as JSON lines. Brokers and topic names come from the
 * environment (CONTRACTS.md §1).
 *
 *   deno task generate --days-back 2 --rate 20          # two past days, then 20 events/s live
 *   deno task generate --count 10000 --jsonl out.jsonl --no-kafka
 */
import { parseArgs } from "node:util";
import { loadConfigOrExit, type ResolvedConfig, TOPIC_KEYS } from "../shared/config.ts";
import { createKafka } from "../shared/kafka.ts";
import { createLogger, type Logger } from "../shared/log.ts";
import { DAY_MS, floorMinute, toIso } from "../shared/time.ts";
import { ensureTopics } from "../infra/topics.ts";
import { generate, type GeneratedRecord, type GeneratorOptions } from "./generate.ts";
import { createJsonlWriter, type JsonlWriter } from "./jsonl.ts";
import { produceRecords } from "./produce.ts";

const USAGE = `Usage: deno task generate [options]
  --seed N                PRNG seed (default: random, logged)
  --users N               users in the population (default 1000)
  --courses N             courses (default 20)
  --days-back N           history: event time from now - N days to now
  --from T --to T         history: event time range (RFC 3339 or YYYY-MM-DD, UTC)
  --count N               records of history (default: --events-per-second over the range)
  --events-per-second R   history volume per second of event time (default 2)
  --rate R                live traffic, records per real second, after the history
  --duration S            stop live traffic after S seconds (default: until Ctrl-C)
  --malformed-share X     share of malformed records (default 0.01)
  --duplicate-share X     share of re-sent duplicates (default 0.01)
  --out-of-order-share X  share of out-of-order arrivals (default 0.02)
  --late-share X          share of late arrivals beyond ALLOWED_LATENESS_MS (default 0.005)
  --no-too-large          leave out the > 1 MiB malformed records
  --partitions N          partitions to compute (default: the topics' partition count)
  --batch-size N          records per Kafka batch (default 2000)
  --jsonl FILE            also write the records as JSON lines
  --no-kafka              do not produce (with --jsonl: only write the file)
  --help`;

const OPTIONS = {
  seed: { type: "string" },
  users: { type: "string" },
  courses: { type: "string" },
  "days-back": { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  count: { type: "string" },
  "events-per-second": { type: "string" },
  rate: { type: "string" },
  duration: { type: "string" },
  "malformed-share": { type: "string" },
  "duplicate-share": { type: "string" },
  "out-of-order-share": { type: "string" },
  "late-share": { type: "string" },
  "no-too-large": { type: "boolean" },
  partitions: { type: "string" },
  "batch-size": { type: "string" },
  jsonl: { type: "string" },
  "no-kafka": { type: "boolean" },
  help: { type: "boolean" },
} as const;

class UsageError extends Error {}

function num(
  values: Record<string, unknown>,
  name: string,
  check: (n: number) => boolean,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (String(raw).trim() === "" || !Number.isFinite(n) || !check(n)) {
    throw new UsageError(`--${name}: invalid value ${JSON.stringify(raw)}`);
  }
  return n;
}

function time(name: string, raw: string): number {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw);
  if (!Number.isFinite(ms)) {
    throw new UsageError(`--${name}: not a date or RFC 3339 time: ${JSON.stringify(raw)}`);
  }
  return ms;
}

interface Plan {
  base: Omit<GeneratorOptions, "startMs">;
  history?: { startMs: number; endMs: number; totalEvents?: number; eventsPerSecond?: number };
  live?: { rate: number; durationMs?: number };
  jsonl?: string;
  kafka: boolean;
  partitions?: number;
  batchSize: number;
}

function plan(args: string[], now: number): Plan {
  const { values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const int = (n: number) => Number.isSafeInteger(n) && n >= 0;
  const pos = (n: number) => n > 0;
  const share = (n: number) => n >= 0 && n < 1;
  const base: Plan["base"] = {
    seed: num(values, "seed", int) ?? (crypto.getRandomValues(new Uint32Array(1))[0] >>> 1),
    users: num(values, "users", (n) => int(n) && n > 0),
    courses: num(values, "courses", (n) => int(n) && n > 0),
    malformedShare: num(values, "malformed-share", share),
    duplicateShare: num(values, "duplicate-share", share),
    outOfOrderShare: num(values, "out-of-order-share", share),
    lateShare: num(values, "late-share", share),
    tooLarge: !values["no-too-large"],
  };
  const daysBack = num(values, "days-back", pos);
  let history: Plan["history"];
  if (daysBack !== undefined && (values.from || values.to)) {
    throw new UsageError("--days-back and --from/--to are alternatives");
  }
  const count = num(values, "count", (n) => int(n) && n > 0);
  const eps = num(values, "events-per-second", pos);
  if (daysBack !== undefined) {
    history = { startMs: floorMinute(now - daysBack * DAY_MS), endMs: now };
  } else if (values.from || values.to) {
    if (!values.from || !values.to) throw new UsageError("--from and --to go together");
    history = { startMs: time("from", values.from), endMs: time("to", values.to) };
    if (history.endMs <= history.startMs) throw new UsageError("--to must be after --from");
    if (history.endMs > now) {
      throw new UsageError("--to must not be in the future (use --rate for live traffic)");
    }
  }
  const rate = num(values, "rate", pos);
  if (!history && rate === undefined) {
    // Just a count: the last hours before now, sized to the count.
    const n = count ?? 10_000;
    history = {
      startMs: floorMinute(now - Math.max(3_600_000, (n / (eps ?? 20)) * 1000)),
      endMs: now,
    };
  }
  if (history) {
    if (count !== undefined) history.totalEvents = count;
    else history.eventsPerSecond = eps ?? 2;
  }
  const duration = num(values, "duration", pos);
  if (duration !== undefined && rate === undefined) throw new UsageError("--duration needs --rate");
  if (values["no-kafka"] && !values.jsonl) throw new UsageError("--no-kafka needs --jsonl FILE");
  return {
    base,
    history,
    live: rate === undefined
      ? undefined
      : { rate, durationMs: duration === undefined ? undefined : duration * 1000 },
    jsonl: values.jsonl,
    kafka: !values["no-kafka"],
    partitions: num(values, "partitions", (n) => int(n) && n > 0),
    batchSize: num(values, "batch-size", (n) => int(n) && n > 0) ?? 2000,
  };
}

/** The partition count shared by all input topics (they must agree). */
async function topicPartitions(cfg: ResolvedConfig): Promise<number> {
  const admin = createKafka(cfg, "edu-generator-admin").admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({
      topics: TOPIC_KEYS.map((k) => cfg.topics[k]),
    });
    const counts = new Set(topics.map((t) => t.partitions.length));
    if (counts.size !== 1) {
      throw new Error(
        `input topics have different partition counts: ${
          topics.map((t) => `${t.name}=${t.partitions.length}`).join(", ")
        }`,
      );
    }
    return [...counts][0];
  } finally {
    await admin.disconnect();
  }
}

/** Yields records when the wall clock reaches their kafkaTs; `onFirst` runs before the first. */
async function* paced(
  records: Iterable<GeneratedRecord>,
  signal: AbortSignal,
  onFirst: () => void,
): AsyncGenerator<GeneratedRecord> {
  let first = true;
  for (const r of records) {
    if (first) {
      first = false;
      onFirst();
    }
    const wait = r.kafkaTs - Date.now();
    if (wait > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
    if (signal.aborted) return;
    yield r;
  }
}

async function* tee(
  records: AsyncIterable<GeneratedRecord> | Iterable<GeneratedRecord>,
  w?: JsonlWriter,
) {
  for await (const r of records) {
    w?.write(r);
    yield r;
  }
}

async function run(
  phase: string,
  records: Iterable<GeneratedRecord> | AsyncIterable<GeneratedRecord>,
  p: Plan,
  cfg: ResolvedConfig,
  log: Logger,
  signal: AbortSignal,
  writer?: JsonlWriter,
): Promise<void> {
  const t0 = Date.now();
  let last = 0;
  if (!p.kafka) {
    let n = 0;
    for await (const _ of tee(records, writer)) {
      if (signal.aborted) break;
      if (++n % 100_000 === 0) log.info("progress", { phase, written: n });
    }
    log.info("done", { phase, written: n, ms: Date.now() - t0 });
    return;
  }
  const result = await produceRecords(cfg, tee(records, writer), {
    batchSize: phase === "live"
      ? Math.max(1, Math.min(p.batchSize, Math.ceil(p.live!.rate / 4)))
      : p.batchSize,
    signal,
    onProgress: (x) => {
      if (Date.now() - last < 2000) return;
      last = Date.now();
      log.info("progress", { phase, sent: x.sent, refused: x.refused, kafkaTs: toIso(x.kafkaTs) });
    },
  });
  if (result.refused.length > 0) {
    log.warn("broker refused records over its max.message.bytes", {
      phase,
      refused: result.refused.length,
      hint: "raise max.message.bytes of the input topics, or pass --no-too-large",
    });
  }
  log.info("done", { phase, sent: result.sent, counts: result.counts, ms: Date.now() - t0 });
}

async function main(): Promise<number> {
  const now = Date.now();
  let p: Plan;
  try {
    p = plan(Deno.args, now);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const cfg = loadConfigOrExit();
  const log = createLogger({ name: "generator", level: cfg.logLevel });
  const abort = new AbortController();
  const stop = () => {
    if (!abort.signal.aborted) log.info("stopping");
    abort.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let partitions = p.partitions ?? cfg.topicPartitions;
  if (p.kafka) {
    const topics = await ensureTopics(cfg, { enrichedTopic: cfg.enrichedTopic });
    if (topics.created.length > 0) log.info("created topics", { topics: topics.created });
    partitions = p.partitions ?? await topicPartitions(cfg);
  }
  const writer = p.jsonl ? createJsonlWriter(p.jsonl) : undefined;
  log.info("start", {
    seed: p.base.seed,
    partitions,
    history: p.history && { from: toIso(p.history.startMs), to: toIso(p.history.endMs) },
    live: p.live,
    kafka: p.kafka,
    jsonl: p.jsonl,
  });
  try {
    if (p.history) {
      const records = generate({ ...p.base, ...p.history, partitions, now });
      await run("history", records, p, cfg, log, abort.signal, writer);
    }
    if (p.live && !abort.signal.aborted) {
      const start = Date.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const startTimer = () => {
        if (p.live?.durationMs !== undefined) timer = setTimeout(stop, p.live.durationMs);
      };
      const records = generate({
        ...p.base,
        // A different stream than the history's, so its event ids are new.
        seed: ((p.base.seed ?? 0) + 1) >>> 0,
        startMs: start,
        eventsPerSecond: p.live.rate,
        warmupMs: 30 * 60_000,
        cdcSnapshot: !p.history,
        partitions,
      });
      try {
        await run(
          "live",
          paced(records, abort.signal, startTimer),
          p,
          cfg,
          log,
          abort.signal,
          writer,
        );
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    }
  } finally {
    writer?.close();
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
