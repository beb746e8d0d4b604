/**
 * @module
 * Reads dead-letter topics back (tests): every message with its headers, by a throw-away consumer
 * group reading from the beginning.
 */
import type { Kafka } from "kafkajs";

/** A dead letter as read back. */
export interface ReadDeadLetter {
  topic: string;
  partition: number;
  key: string | null;
  value: string | null;
  timestamp: number;
  headers: Record<string, string>;
}

/**
 * Reads `expected` messages (or everything there is after `idleMs` without new messages) from the
 * given topics.
 */
export async function readDeadLetters(
  kafka: Kafka,
  topics: readonly string[],
  options: { expected?: number; idleMs?: number; timeoutMs?: number } = {},
): Promise<ReadDeadLetter[]> {
  const consumer = kafka.consumer({ groupId: `dlq-reader-${crypto.randomUUID()}` });
  const out: ReadDeadLetter[] = [];
  const dec = new TextDecoder();
  let last = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          headers[k] = v === undefined ? "" : dec.decode(v as Uint8Array);
        }
        out.push({
          topic,
          partition,
          key: message.key ? dec.decode(message.key) : null,
          value: message.value ? dec.decode(message.value) : null,
          timestamp: Number(message.timestamp),
          headers,
        });
        last = Date.now();
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    const idle = options.idleMs ?? 5_000;
    while (Date.now() < deadline) {
      if (options.expected !== undefined && out.length >= options.expected) {
        // Let a few more arrive (a duplicate would show up now).
        await new Promise((r) => setTimeout(r, 1000));
        break;
      }
      if (options.expected === undefined && Date.now() - last > idle) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await consumer.disconnect();
  }
  return out;
}
