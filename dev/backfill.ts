/**
 * @module
 * Past days of generated traffic for `deno task dev`, put into the master dataset fast and
 * consistently with Kafka:
 *
 * 1. the records are produced to the input topics (real offsets, their arrival times as Kafka
 *    timestamps), while the valid ones are written as master dataset files with exactly the rows
 *    the archiver would write for those offsets (`shared/archive.ts`), into a staging directory;
 * 2. the end offsets are checked to be the predicted ones, the files are moved into
 *    `DATA_DIR/master`, and the produced records are deleted from Kafka (as retention would), so
 *    the stream processors start after them and never process three-day-old traffic.
 *
 * The master dataset then looks as if the archiver had written it: every file's offsets lie below
 * the offsets the archiver will see, so its takeover clean-up (files at or above its resume
 * offset are removed) never touches them. A marker file makes the step run once per `DATA_DIR`.
 */
import type { Admin, Kafka, Message } from "kafkajs";
import { type ArchiveRow, archiveRow, listArchiveFiles, writeArchive } from "../shared/archive.ts";
import { type ResolvedConfig, TOPIC_KEYS, type TopicKey } from "../shared/config.ts";
import { parseEvent } from "../shared/events.ts";
import { createKafka, createProducer } from "../shared/kafka.ts";
import { DAY_MS, floorDay, floorHour, HOUR_MS } from "../shared/time.ts";
import { generate, type GeneratedRecord } from "../generator/generate.ts";
import type { Population } from "../generator/population.ts";

/** Name of the marker file in `DATA_DIR`. */
export const BACKFILL_MARKER = ".dev-backfill.json";
const STAGING_PREFIX = ".dev-backfill-staging-";

/** The event-time span of the past days: whole days back, up to the start of the current hour. */
export interface BackfillWindow {
  startMs: number;
  endMs: number;
}

/**
 * `[midnight daysBack days before today, start of the current hour)`, or null for 0 days.
 * @param now the current instant (epoch ms)
 */
export function backfillWindow(now: number, daysBack: number): BackfillWindow | null {
  if (daysBack <= 0) return null;
  return { startMs: floorDay(now) - daysBack * DAY_MS, endMs: floorHour(now) };
}

/** The UTC dates (`YYYY-MM-DD`) a window touches, oldest first. */
export function windowDates(w: BackfillWindow): string[] {
  const out: string[] = [];
  for (let d = floorDay(w.startMs); d < w.endMs; d += DAY_MS) {
    out.push(new Date(d).toISOString().slice(0, 10));
  }
  return out;
}

/** What a finished backfill recorded in `DATA_DIR/.dev-backfill.json`. */
export interface BackfillMarker {
  version: 1;
  startMs: number;
  endMs: number;
  seed: number;
  users: number;
  courses: number;
  eventsPerSec: number;
  /** Records produced (valid and duplicates; malformed records are not generated here). */
  produced: number;
  /** Rows written to the master dataset. */
  archived: number;
  files: number;
  completedAt: string;
  /** Set once the batch jobs have published the window. */
  batchedAt?: string;
  /** End of the span the population was built for (the first window's end); default `endMs`. */
  populationEndMs?: number;
}

/** Reads the marker, or null when the backfill has not completed in this `DATA_DIR`. */
export async function readMarker(dataDir: string): Promise<BackfillMarker | null> {
  try {
    const m = JSON.parse(await Deno.readTextFile(`${dataDir}/${BACKFILL_MARKER}`));
    return m?.version === 1 ? m as BackfillMarker : null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Writes the marker atomically. */
export async function writeMarker(dataDir: string, marker: BackfillMarker): Promise<void> {
  const tmp = `${dataDir}/${BACKFILL_MARKER}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(marker, null, 2) + "\n");
  await Deno.rename(tmp, `${dataDir}/${BACKFILL_MARKER}`);
}

/** Whether to backfill, and why not. */
export type BackfillDecision =
  | { run: true }
  | { run: false; reason: string; marker: BackfillMarker | null };

/**
 * Decides whether the past days can be put into the archive: not when the marker says it was
 * done, and not when the archive already holds files of these topics or the archiver already has
 * checkpoints (their offsets could not be kept below the archiver's, see the module doc).
 * @param archiverCheckpoints whether `stream_checkpoints` has archiver rows for the group
 */
export async function decideBackfill(
  cfg: Pick<ResolvedConfig, "dataDir" | "topics">,
  archiverCheckpoints: () => Promise<boolean>,
): Promise<BackfillDecision> {
  const marker = await readMarker(cfg.dataDir);
  if (marker) return { run: false, reason: "already in the archive", marker };
  const files = await listArchiveFiles(cfg.dataDir, { topics: Object.values(cfg.topics) });
  if (files.length > 0) {
    return {
      run: false,
      reason: `the archive already holds ${files.length} files written by the archiver ` +
        "(start over with `deno task dev --reset`)",
      marker,
    };
  }
  if (await archiverCheckpoints()) {
    return {
      run: false,
      reason: "the archiver already has checkpoints in Cassandra for this consumer group " +
        "(start over with `deno task dev --reset`)",
      marker,
    };
  }
  return { run: true };
}

/** Progress of {@link runBackfill}. */
export interface BackfillProgress {
  produced: number;
  archived: number;
  /** Event time reached (epoch ms). */
  eventTimeMs: number;
  /** 0..1 of the window's event time. */
  fraction: number;
}

/** Options of {@link runBackfill}. */
export interface BackfillOptions {
  window: BackfillWindow;
  population: Population;
  seed: number;
  eventsPerSec: number;
  /** Records per produce request; default 5000. */
  batchSize?: number;
  /** Called after every produce request. */
  onProgress?: (p: BackfillProgress) => void;
  /** Stops early; nothing is moved into the archive then. */
  signal?: AbortSignal;
  /** Clock (arrivals after it are not produced); default `Date.now`. */
  now?: () => number;
  /** Kafka client; default a new one. */
  kafka?: Kafka;
  /** Leave the produced records in Kafka (tests compare them with the files); default false. */
  keepInKafka?: boolean;
  /**
   * The marker of an earlier backfill this one continues (its window must end where this one
   * starts, and nothing may have consumed the topics since): the new marker covers both.
   */
  previous?: BackfillMarker;
}

/** Thrown when Kafka's offsets are not the ones the archive files were written with. */
export class OffsetMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OffsetMismatchError";
  }
}

type Offsets = Map<string, number[]>;

async function endOffsets(admin: Admin, topics: string[]): Promise<Offsets> {
  const out: Offsets = new Map();
  for (const t of topics) {
    const parts = await admin.fetchTopicOffsets(t);
    const ends: number[] = [];
    for (const p of parts) ends[p.partition] = Number(p.high);
    out.set(t, ends);
  }
  return out;
}

async function moveInto(staging: string, dataDir: string): Promise<number> {
  const files = await listArchiveFiles(staging);
  for (const f of files) {
    const dest = `${dataDir}${f.path.slice(staging.length)}`;
    await Deno.mkdir(dest.slice(0, dest.lastIndexOf("/")), { recursive: true });
    await Deno.rename(f.path, dest);
  }
  return files.length;
}

/**
 * Produces the window's generated records to Kafka and writes the valid ones as master dataset
 * files, then deletes the produced records from Kafka and writes the marker.
 * @param cfg brokers, topic names, data directory
 * @throws {OffsetMismatchError} when another producer wrote to the topics meanwhile
 */
export async function runBackfill(
  cfg: Pick<ResolvedConfig, "kafkaBrokers" | "logLevel" | "topics" | "dataDir">,
  opts: BackfillOptions,
): Promise<BackfillMarker> {
  const now = opts.now ?? Date.now;
  const { window } = opts;
  if (opts.previous && opts.previous.endMs !== window.startMs) {
    throw new RangeError(
      `Cannot continue a backfill ending at ${opts.previous.endMs} with a window from ${window.startMs}`,
    );
  }
  const batchSize = opts.batchSize ?? 5000;
  const kafka = opts.kafka ?? createKafka(cfg, "edu-dev-backfill");
  const names = TOPIC_KEYS.map((k) => cfg.topics[k]);
  const admin = kafka.admin();
  const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
  await Deno.mkdir(cfg.dataDir, { recursive: true });
  for await (const e of Deno.readDir(cfg.dataDir)) {
    if (e.name.startsWith(STAGING_PREFIX)) {
      await Deno.remove(`${cfg.dataDir}/${e.name}`, { recursive: true });
    }
  }
  const staging = `${cfg.dataDir}/${STAGING_PREFIX}${Deno.pid}`;
  await admin.connect();
  await producer.connect();
  try {
    const start = await endOffsets(admin, names);
    const partitions = start.get(names[0])!.length;
    for (const t of names) {
      if (start.get(t)!.length !== partitions) {
        throw new RangeError(`Cannot backfill: topics have different partition counts (${t})`);
      }
    }
    const next: Offsets = new Map([...start].map(([t, e]) => [t, [...e]]));
    const stopAt = now();
    const records = generate({
      seed: opts.seed,
      population: opts.population,
      startMs: window.startMs,
      endMs: window.endMs,
      eventsPerSecond: opts.eventsPerSec,
      partitions,
      cdcSnapshot: !opts.previous, // a continuation follows traffic that had the snapshot
      malformedShare: 0, // invalid records never reach the archive; the live stream has them
      tooLarge: false,
      now: window.endMs,
    });

    // Rows wait per (topic, partition, date, hour) until no more arrivals can belong to them.
    const pending = new Map<string, ArchiveRow[]>();
    let archived = 0;
    let produced = 0;
    const flush = async (before: number) => {
      const rows: ArchiveRow[] = [];
      for (const [k, g] of pending) {
        if (floorHour(g[0].eventTime) + HOUR_MS <= before) {
          rows.push(...g);
          pending.delete(k);
        }
      }
      if (rows.length > 0) await writeArchive(staging, rows, { fsync: false });
    };
    const toSend = (batch: GeneratedRecord[]) => {
      const byTopic = new Map<string, Message[]>();
      for (const r of batch) {
        const name = cfg.topics[r.topic];
        let list = byTopic.get(name);
        if (!list) byTopic.set(name, list = []);
        list.push({
          key: r.key,
          value: r.value,
          partition: r.partition,
          timestamp: String(r.kafkaTs),
        });
      }
      return producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    };

    let inFlight: Promise<unknown> | undefined;
    let batch: GeneratedRecord[] = [];
    let lastTs = window.startMs;
    const send = async () => {
      if (inFlight) await inFlight;
      if (batch.length === 0) return;
      inFlight = toSend(batch);
      produced += batch.length;
      opts.onProgress?.({
        produced,
        archived,
        eventTimeMs: Math.min(lastTs, window.endMs),
        fraction: Math.min(1, (lastTs - window.startMs) / (window.endMs - window.startMs)),
      });
      batch = [];
      await flush(lastTs - 3 * HOUR_MS); // arrivals are at most ~100 min after event time
    };
    for (const r of records) {
      if (opts.signal?.aborted) break;
      if (r.kafkaTs > stopAt) break; // not arrived yet
      const name = cfg.topics[r.topic];
      const offset = next.get(name)![r.partition]++;
      batch.push(r);
      lastTs = r.kafkaTs;
      const parsed = parseEvent(r.topic as TopicKey, r.value, {
        now: r.kafkaTs,
        kafkaTimestamp: r.kafkaTs,
      });
      if (parsed.ok) {
        const row = archiveRow(parsed.ok, {
          topic: name,
          partition: r.partition,
          offset,
          kafkaTs: r.kafkaTs,
          raw: r.value,
          key: r.key,
        });
        const k = `${name}/${r.partition}/${row.date}/${row.hour}`;
        let g = pending.get(k);
        if (!g) pending.set(k, g = []);
        g.push(row);
        archived++;
      }
      if (batch.length >= batchSize) await send();
    }
    if (opts.signal?.aborted) {
      await inFlight?.catch(() => {});
      throw new DOMException("backfill interrupted", "AbortError");
    }
    await send();
    await inFlight;
    await flush(Infinity);

    const end = await endOffsets(admin, names);
    for (const t of names) {
      const want = next.get(t)!, got = end.get(t)!;
      for (let p = 0; p < partitions; p++) {
        if (want[p] !== got[p]) {
          throw new OffsetMismatchError(
            `Cannot backfill: ${t}[${p}] ends at offset ${got[p]}, expected ${want[p]} ` +
              "(did another producer write to the topics meanwhile?)",
          );
        }
      }
    }
    const files = await moveInto(staging, cfg.dataDir);
    for (const t of opts.keepInKafka ? [] : names) {
      const ends = end.get(t)!;
      const parts = ends.map((offset, partition) => ({ partition, offset: String(offset) }))
        .filter((p, i) => Number(p.offset) > start.get(t)![i]);
      if (parts.length > 0) await admin.deleteTopicRecords({ topic: t, partitions: parts });
    }
    const prev = opts.previous;
    const marker: BackfillMarker = {
      version: 1,
      startMs: prev?.startMs ?? window.startMs,
      endMs: window.endMs,
      seed: prev?.seed ?? opts.seed,
      users: opts.population.users.length,
      courses: opts.population.courses.length,
      eventsPerSec: opts.eventsPerSec,
      produced: produced + (prev?.produced ?? 0),
      archived: archived + (prev?.archived ?? 0),
      files: files + (prev?.files ?? 0),
      completedAt: new Date(now()).toISOString(),
      populationEndMs: prev ? prev.populationEndMs ?? prev.endMs : window.endMs,
    };
    await writeMarker(cfg.dataDir, marker);
    return marker;
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
