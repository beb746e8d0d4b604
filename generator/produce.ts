/**
 * @module
 * Sends generated records to Kafka with kafkajs: the topic name from the configuration, the
 * record's explicit partition, key, value (null for tombstones) and `kafkaTs` as the message
 * timestamp. Batches go out one at a time with an idempotent producer (acks = all, one request in
 * flight), so every partition receives its records exactly once and in the order given.
 */
import type { Kafka, Message } from "kafkajs";
import type { ResolvedConfig, TopicKey } from "../shared/config.ts";
import { createKafka, createProducer } from "../shared/kafka.ts";
import type { GeneratedRecord } from "./generate.ts";

export { readJsonl, writeJsonl } from "./jsonl.ts";

/** Progress after each batch. */
export interface ProduceProgress {
  sent: number;
  refused: number;
  /** kafkaTs of the last record sent. */
  kafkaTs: number;
}

/** Options of {@link produceRecords}. */
export interface ProduceOptions {
  /** Records per `sendBatch`; default 2000. */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (p: ProduceProgress) => void;
  /** A kafkajs client; default a new one from `cfg`. */
  kafka?: Kafka;
  /** Stop early (the records sent so far stay sent); checked between batches. */
  signal?: AbortSignal;
  /** Called before each batch with its records (e.g. to pace a real-time run). */
  beforeBatch?: (batch: GeneratedRecord[]) => Promise<void> | void;
}

/** What {@link produceRecords} sent. */
export interface ProduceResult {
  /** Records acknowledged, per logical topic. */
  counts: Record<TopicKey, number>;
  sent: number;
  /**
   * Records the broker refused as too large (values over the topic's `max.message.bytes`); they
   * are not in Kafka, so leave them out of a reference computation.
   */
  refused: GeneratedRecord[];
}

/** Values at least this big are sent alone, so a broker refusal touches no other record. */
const ALONE_BYTES = 512 * 1024;

/**
 * Produces records in the given order.
 * @param cfg brokers and topic names
 * @param records any (async) iterable of records, e.g. `generate(...)`
 * @throws the kafkajs error of a batch that failed after retries (other than a too-large refusal)
 */
export async function produceRecords(
  cfg: Pick<ResolvedConfig, "kafkaBrokers" | "logLevel" | "topics">,
  records: Iterable<GeneratedRecord> | AsyncIterable<GeneratedRecord>,
  options: ProduceOptions = {},
): Promise<ProduceResult> {
  const batchSize = options.batchSize ?? 2000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot produce: 'batchSize' must be a positive integer, got ${batchSize}`,
    );
  }
  const kafka = options.kafka ?? createKafka(cfg, "edu-generator");
  const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
  const counts = Object.fromEntries(Object.keys(cfg.topics).map((t) => [t, 0])) as Record<
    TopicKey,
    number
  >;
  const refused: GeneratedRecord[] = [];
  let sent = 0;
  let lastTs = 0;
  const send = async (batch: GeneratedRecord[]) => {
    if (batch.length === 0) return;
    await options.beforeBatch?.(batch);
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
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (e) {
      if (batch.length === 1 && isTooLarge(e)) {
        refused.push(batch[0]);
        return;
      }
      throw e;
    }
    for (const r of batch) counts[r.topic]++;
    sent += batch.length;
    lastTs = batch[batch.length - 1].kafkaTs;
    options.onProgress?.({ sent, refused: refused.length, kafkaTs: lastTs });
  };
  await producer.connect();
  try {
    let batch: GeneratedRecord[] = [];
    for await (const r of records) {
      if (options.signal?.aborted) break;
      if (r.value !== null && r.value.length >= ALONE_BYTES) {
        await send(batch);
        batch = [];
        await send([r]);
        continue;
      }
      batch.push(r);
      if (batch.length >= batchSize) {
        await send(batch);
        batch = [];
      }
    }
    if (!options.signal?.aborted) await send(batch);
  } finally {
    await producer.disconnect();
  }
  return { counts, sent, refused };
}

function isTooLarge(e: unknown): boolean {
  const seen = new Set<unknown>();
  for (
    let x = e as
      | { type?: string; name?: string; cause?: unknown; originalError?: unknown }
      | undefined;
    x && !seen.has(x);
  ) {
    seen.add(x);
    if (x.type === "MESSAGE_TOO_LARGE" || x.type === "RECORD_LIST_TOO_LARGE") return true;
    x = (x.originalError ?? x.cause) as typeof x;
  }
  return /too large|MESSAGE_TOO_LARGE/i.test(String((e as Error)?.message ?? ""));
}
