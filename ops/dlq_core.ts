/**
 * @module
 * Dead-letter topic operations behind `deno task dlq`: list (counts by `error.reason` and
 * `error.field`), show (messages with their headers) and replay (re-validate with
 * {@linkcode parseEvent} and re-publish the valid ones to the source topic, same key and value).
 *
 * What was replayed is recorded in a ledger topic (default `dlq-replay`, compacted, key
 * `<dlq topic>/<partition>/<offset>`), written in the same Kafka transaction as the re-published
 * events, so a crash never leaves one without the other and a second replay skips exactly the
 * DLQ offsets already re-published. Unlike a committed consumer offset, the ledger keeps messages
 * that were filtered out (`--reason`, `--since`, `--limit`) or are still invalid eligible for a
 * later replay, e.g. after a fix to the validation or the producer.
 */
import { Buffer } from "node:buffer";
import { type Kafka, Partitioners } from "kafkajs";
import { dlqTopic, type TopicKey } from "../shared/config.ts";
import { parseEvent, type RejectReason } from "../shared/events.ts";
import { readToEnd, type TopicMessage } from "./read_to_end.ts";

/** Default ledger topic of replayed DLQ offsets. */
export const REPLAY_LEDGER_TOPIC = "dlq-replay";
/** Header on a re-published event naming the DLQ message it came from. */
export const REPLAYED_FROM_HEADER = "dlq.replayed.from";

/** Which DLQ messages an operation looks at. */
export interface DlqFilter {
  /** Only messages whose Kafka timestamp is at or after this instant (ms). */
  since?: number;
  /** Only messages with this `error.reason` header. */
  reason?: string;
  /** At most this many messages (after the other filters), in partition/offset order. */
  limit?: number;
}

/** A source topic: its logical key and its Kafka name. */
export interface SourceTopic {
  key: TopicKey;
  name: string;
}

/**
 * Resolves `--topic`: a configured input topic name (`video_topic`), its DLQ name
 * (`video_topic.dlq`) or its logical key (`VIDEO`).
 * @throws {RangeError} naming the known topics when it is none of them
 */
export function resolveSourceTopic(topics: Record<TopicKey, string>, arg: string): SourceTopic {
  const name = arg.endsWith(".dlq") ? arg.slice(0, -4) : arg;
  for (const [key, topic] of Object.entries(topics) as [TopicKey, string][]) {
    if (topic === name || key === name.toUpperCase()) return { key, name: topic };
  }
  throw new RangeError(
    `Unknown topic ${JSON.stringify(arg)}: expected one of ${Object.values(topics).join(", ")}`,
  );
}

function select(messages: TopicMessage[], f: DlqFilter): TopicMessage[] {
  const out = messages.filter((m) =>
    (f.since === undefined || m.timestamp >= f.since) &&
    (f.reason === undefined || m.headers["error.reason"] === f.reason)
  );
  return f.limit === undefined ? out : out.slice(0, f.limit);
}

/** Counts of DLQ messages. */
export interface DlqCounts {
  topic: string;
  total: number;
  byReason: Record<string, number>;
  /** `reason/field` → count (field "" when the whole message was rejected). */
  byReasonField: Record<string, number>;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
}

function countBy(messages: TopicMessage[], topic: string): DlqCounts {
  const byReason: Record<string, number> = {};
  const byReasonField: Record<string, number> = {};
  for (const m of messages) {
    const reason = m.headers["error.reason"] ?? "(no reason header)";
    const field = m.headers["error.field"] ?? "";
    byReason[reason] = (byReason[reason] ?? 0) + 1;
    byReasonField[`${reason}/${field}`] = (byReasonField[`${reason}/${field}`] ?? 0) + 1;
  }
  const ts = messages.map((m) => m.timestamp);
  return {
    topic,
    total: messages.length,
    byReason,
    byReasonField,
    firstTimestamp: ts.length ? new Date(Math.min(...ts)).toISOString() : null,
    lastTimestamp: ts.length ? new Date(Math.max(...ts)).toISOString() : null,
  };
}

async function existingTopics(kafka: Kafka): Promise<Set<string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Set(await admin.listTopics());
  } finally {
    await admin.disconnect();
  }
}

async function readDlq(kafka: Kafka, source: SourceTopic): Promise<TopicMessage[]> {
  const dlq = dlqTopic(source.name);
  if (!(await existingTopics(kafka)).has(dlq)) {
    throw new RangeError(`Topic ${dlq} does not exist`);
  }
  return await readToEnd(kafka, dlq, { groupPrefix: "dlq-tool" });
}

/** `list`: counts by reason and field of the selected DLQ messages. */
export async function dlqList(
  kafka: Kafka,
  source: SourceTopic,
  f: DlqFilter = {},
): Promise<DlqCounts> {
  return countBy(select(await readDlq(kafka, source), f), dlqTopic(source.name));
}

/** One DLQ message as `show` prints it (one JSON object per line). */
export interface DlqShown {
  partition: number;
  offset: number;
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  /** The value as UTF-8 text; null for a tombstone or when it is not UTF-8 (see valueBase64). */
  value: string | null;
  valueBase64?: string;
}

function text(b: Uint8Array | null): string | null {
  if (b === null) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return null;
  }
}

/** `show`: the selected DLQ messages with their headers. */
export async function dlqShow(
  kafka: Kafka,
  source: SourceTopic,
  f: DlqFilter = {},
): Promise<DlqShown[]> {
  return select(await readDlq(kafka, source), f).map((m) => {
    const value = text(m.value);
    const shown: DlqShown = {
      partition: m.partition,
      offset: m.offset,
      timestamp: new Date(m.timestamp).toISOString(),
      key: m.key === null ? null : text(m.key) ?? btoa(String.fromCharCode(...m.key)),
      headers: m.headers,
      value,
    };
    if (value === null && m.value !== null) {
      shown.valueBase64 = btoa(String.fromCharCode(...m.value));
    }
    return shown;
  });
}

/** Options of {@linkcode dlqReplay}. */
export interface ReplayOptions extends DlqFilter {
  /** Ledger topic; default {@linkcode REPLAY_LEDGER_TOPIC}. */
  ledgerTopic?: string;
  /** Validate and report only; publish nothing. */
  dryRun?: boolean;
  /** Messages per transaction; default 500. */
  chunk?: number;
  /** Current time for parseEvent's future check; default Date.now(). */
  now?: () => number;
}

/** What a replay did. */
export interface ReplayReport {
  dlqTopic: string;
  sourceTopic: string;
  /** DLQ messages that passed the filters and were not replayed before. */
  selected: number;
  /** Re-published to the source topic now (0 on a dry run). */
  replayed: number;
  /** Valid and would be re-published (equals `replayed` unless dry run). */
  valid: number;
  /** Skipped: re-published by an earlier replay (recorded in the ledger). */
  alreadyReplayed: number;
  /** Still invalid: left in the DLQ, by reason and by `reason/field`. */
  stillInvalid: number;
  stillInvalidByReason: Partial<Record<RejectReason, number>>;
  stillInvalidByReasonField: Record<string, number>;
  dryRun: boolean;
}

function ledgerKey(dlq: string, m: { partition: number; offset: number }): string {
  return `${dlq}/${m.partition}/${m.offset}`;
}

async function ensureLedger(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic,
        numPartitions: 1,
        configEntries: [{ name: "cleanup.policy", value: "compact" }],
      }],
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * `replay`: re-validates the selected DLQ messages not replayed before and re-publishes the valid
 * ones to the source topic (same key and value, plus a {@linkcode REPLAYED_FROM_HEADER} header),
 * recording each in the ledger within the same transaction.
 */
export async function dlqReplay(
  kafka: Kafka,
  source: SourceTopic,
  opts: ReplayOptions = {},
): Promise<ReplayReport> {
  const dlq = dlqTopic(source.name);
  const ledger = opts.ledgerTopic ?? REPLAY_LEDGER_TOPIC;
  const all = await readDlq(kafka, source);
  if (!opts.dryRun) await ensureLedger(kafka, ledger);
  const done = new Set<string>();
  if ((await existingTopics(kafka)).has(ledger)) {
    for (const m of await readToEnd(kafka, ledger, { groupPrefix: "dlq-tool" })) {
      const key = m.key === null ? "" : new TextDecoder().decode(m.key);
      if (key.startsWith(`${dlq}/`) && m.value !== null) done.add(key);
    }
  }
  const fresh = select(all, { since: opts.since, reason: opts.reason }).filter((m) =>
    !done.has(ledgerKey(dlq, m))
  );
  const alreadyReplayed = select(all, { since: opts.since, reason: opts.reason }).length -
    fresh.length;
  const selected = opts.limit === undefined ? fresh : fresh.slice(0, opts.limit);
  const now = (opts.now ?? Date.now)();
  const valid: TopicMessage[] = [];
  const byReason: Partial<Record<RejectReason, number>> = {};
  const byReasonField: Record<string, number> = {};
  for (const m of selected) {
    const r = parseEvent(source.key, m.value, { now, kafkaTimestamp: m.timestamp });
    if (r.ok) valid.push(m);
    else {
      byReason[r.err.reason] = (byReason[r.err.reason] ?? 0) + 1;
      const rf = `${r.err.reason}/${r.err.field}`;
      byReasonField[rf] = (byReasonField[rf] ?? 0) + 1;
    }
  }
  let replayed = 0;
  if (!opts.dryRun && valid.length > 0) {
    const producer = kafka.producer({
      transactionalId: `dlq-replay-${dlq}`,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const chunk = opts.chunk ?? 500;
      for (let i = 0; i < valid.length; i += chunk) {
        const part = valid.slice(i, i + chunk);
        const tx = await producer.transaction();
        try {
          await tx.send({
            topic: source.name,
            messages: part.map((m) => ({
              key: m.key === null ? null : Buffer.from(m.key),
              value: m.value === null ? null : Buffer.from(m.value),
              headers: { [REPLAYED_FROM_HEADER]: ledgerKey(dlq, m) },
            })),
          });
          await tx.send({
            topic: ledger,
            messages: part.map((m) => ({
              key: ledgerKey(dlq, m),
              value: JSON.stringify({
                dlqTopic: dlq,
                partition: m.partition,
                offset: m.offset,
                sourceTopic: source.name,
                replayedAt: new Date(now).toISOString(),
              }),
            })),
          });
          await tx.commit();
        } catch (e) {
          await tx.abort().catch(() => {});
          throw e;
        }
        replayed += part.length;
      }
    } finally {
      await producer.disconnect();
    }
  }
  return {
    dlqTopic: dlq,
    sourceTopic: source.name,
    selected: selected.length,
    replayed,
    valid: valid.length,
    alreadyReplayed,
    stillInvalid: selected.length - valid.length,
    stillInvalidByReason: byReason,
    stillInvalidByReasonField: byReasonField,
    dryRun: opts.dryRun === true,
  };
}
