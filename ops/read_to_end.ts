/**
 * @module
 * Reads a whole topic, from the beginning up to the high watermark observed at the start, and
 * stops there (never waits for new messages). Uses a throw-away consumer group that commits
 * nothing and is deleted afterwards. Positions are followed through kafkajs' batch
 * instrumentation events, which also fire for batches holding only transaction markers, so a
 * topic written transactionally ends too.
 */
import type { Kafka, KafkaMessage } from "kafkajs";

/** A message with its coordinates. */
export interface TopicMessage {
  topic: string;
  partition: number;
  offset: number;
  /** Kafka message timestamp (ms). */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Header values as UTF-8 text (the first value when a header repeats). */
  headers: Record<string, string>;
}

/** Options of {@linkcode readToEnd}. */
export interface ReadToEndOptions {
  /** Give up after this long without reaching the end (default 120000 ms). */
  timeoutMs?: number;
  /** Prefix of the temporary consumer group id (default `ops-read`). */
  groupPrefix?: string;
}

function headerText(headers: KafkaMessage["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first === undefined) continue;
    out[k] = typeof first === "string" ? first : new TextDecoder().decode(first);
  }
  return out;
}

function bytes(b: Uint8Array | Buffer | null): Uint8Array | null {
  return b === null ? null : new Uint8Array(b);
}

/**
 * Reads every message of `topic` below the high watermarks at the time of the call.
 * @param kafka a kafkajs client
 * @param topic the topic (must exist)
 * @returns messages ordered by partition, then offset
 * @throws when the topic does not exist or the end is not reached within `timeoutMs`
 */
export async function readToEnd(
  kafka: Kafka,
  topic: string,
  opts: ReadToEndOptions = {},
): Promise<TopicMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${opts.groupPrefix ?? "ops-read"}-${crypto.randomUUID()}`;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const end = new Map<number, number>();
    const position = new Map<number, number>();
    for (const o of offsets) {
      const high = Number(o.high);
      if (high > Number(o.low)) {
        end.set(o.partition, high);
        position.set(o.partition, Number(o.low));
      }
    }
    if (end.size === 0) return [];
    const messages: TopicMessage[] = [];
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    let finish!: () => void;
    let fail!: (e: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const reached = () => [...end].every(([p, e]) => (position.get(p) ?? 0) >= e);
    consumer.on(consumer.events.END_BATCH_PROCESS, (ev) => {
      const { partition, lastOffset } = ev.payload as { partition: number; lastOffset: string };
      position.set(partition, Math.max(position.get(partition) ?? 0, Number(lastOffset) + 1));
      if (reached()) finish();
    });
    consumer.on(consumer.events.CRASH, (ev) => fail(ev.payload.error));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: ({ batch }) => {
          const stop = end.get(batch.partition) ?? 0;
          for (const m of batch.messages) {
            const offset = Number(m.offset);
            if (offset >= stop) continue;
            messages.push({
              topic,
              partition: batch.partition,
              offset,
              timestamp: Number(m.timestamp),
              key: bytes(m.key),
              value: bytes(m.value),
              headers: headerText(m.headers),
            });
          }
          return Promise.resolve();
        },
      });
      const timeoutMs = opts.timeoutMs ?? 120_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Reading ${topic}: end not reached within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      await consumer.disconnect().catch(() => {});
    }
    const seen = new Set<string>();
    return messages
      .filter((m) => {
        const id = `${m.partition}:${m.offset}`; // a rebalance may deliver a batch twice
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      })
      .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  } finally {
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
