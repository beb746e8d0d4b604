/**
 * @module
 * Dead letters: an invalid record goes to `<topic>.dlq` unchanged (value, key, timestamp and
 * headers) with headers saying why and where it came from.
 */
import type { IHeaders, Message, Producer } from "kafkajs";
import { dlqTopic } from "../../shared/config.ts";
import type { Rejection } from "../../shared/events.ts";

/** A consumed record as kafkajs delivers it. */
export interface SourceRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  timestamp: string;
  headers?: IHeaders;
}

/**
 * The dead-letter message of an invalid record: the original key, value, timestamp and headers
 * plus `error.reason`, `error.field`, `error.detail`, `source.topic`, `source.partition` and
 * `source.offset`; `error.job` when a job rejected it (`source.job`), not the parser.
 */
export function deadLetter(
  record: SourceRecord,
  source: { topic: string; partition: number; offset: number; job?: string },
  rejection: Rejection,
): Message {
  const headers: IHeaders = { ...(record.headers ?? {}) };
  headers["error.reason"] = rejection.reason;
  headers["error.field"] = rejection.field;
  headers["error.detail"] = rejection.detail.slice(0, 1000);
  headers["source.topic"] = source.topic;
  headers["source.partition"] = String(source.partition);
  headers["source.offset"] = String(source.offset);
  if (source.job !== undefined) headers["error.job"] = source.job;
  return {
    key: record.key === null ? null : toBuffer(record.key),
    value: record.value === null ? null : toBuffer(record.value),
    timestamp: record.timestamp,
    headers,
  };
}

function toBuffer(b: Uint8Array): Message["value"] {
  return b as unknown as Message["value"];
}

/** Records at least this big are sent alone. */
const BIG_BYTES = 256 * 1024;

function isTooLarge(e: unknown): boolean {
  for (
    let x = e as { type?: string; cause?: unknown; originalError?: unknown } | undefined, i = 0;
    x && i < 5;
    i++
  ) {
    if (x.type === "MESSAGE_TOO_LARGE" || x.type === "RECORD_LIST_TOO_LARGE") return true;
    x = (x.originalError ?? x.cause) as typeof x;
  }
  return /larger than the max message size/.test(String((e as Error)?.message ?? e));
}

/** Queued dead letters, sent in batches; `flush` resolves when every queued one is acknowledged. */
export class DeadLetters {
  #producer: Producer;
  #queue = new Map<string, Message[]>();
  #sending: Promise<void> = Promise.resolve();
  #failed: unknown;
  #queued = 0;

  constructor(producer: Producer) {
    this.#producer = producer;
  }

  /** Messages queued and not yet acknowledged. */
  get queued(): number {
    return this.#queued;
  }

  /** Queues the dead letter of a record of `topic` (the source topic name). */
  add(topic: string, message: Message): void {
    const t = dlqTopic(topic);
    const list = this.#queue.get(t);
    if (list) list.push(message);
    else this.#queue.set(t, [message]);
    this.#queued++;
  }

  /** Starts sending what is queued (in the background). */
  kick(): void {
    if (this.#queue.size === 0) return;
    const queue = this.#queue;
    this.#queue = new Map();
    this.#sending = this.#sending.then(async () => {
      // Big records go alone, so that a refusal touches no other dead letter.
      const small: { topic: string; messages: Message[] }[] = [];
      const big: { topic: string; message: Message }[] = [];
      for (const [topic, messages] of queue) {
        const keep = messages.filter((m) => (m.value?.length ?? 0) < BIG_BYTES);
        if (keep.length > 0) small.push({ topic, messages: keep });
        for (const m of messages) {
          if ((m.value?.length ?? 0) >= BIG_BYTES) big.push({ topic, message: m });
        }
      }
      const unsent = new Map<string, Message[]>();
      const requeue = (topic: string, ms: Message[]) =>
        unsent.set(topic, [...(unsent.get(topic) ?? []), ...ms]);
      try {
        if (small.length > 0) await this.#producer.sendBatch({ topicMessages: small, acks: -1 });
        this.#queued -= small.reduce((n, b) => n + b.messages.length, 0);
      } catch (e) {
        for (const b of small) requeue(b.topic, b.messages);
        this.#failed ??= e;
      }
      for (const { topic, message } of big) {
        try {
          await this.#send(topic, message);
          this.#queued--;
        } catch (e) {
          requeue(topic, [message]);
          this.#failed ??= e;
        }
      }
      // Put back what failed, in front; the next flush retries.
      for (const [topic, ms] of unsent) {
        this.#queue.set(topic, [...ms, ...(this.#queue.get(topic) ?? [])]);
      }
    });
  }

  /** Sends one message; when the topic refuses it as too large, sends it without its value. */
  async #send(topic: string, message: Message): Promise<void> {
    try {
      await this.#producer.send({ topic, messages: [message], acks: -1 });
    } catch (e) {
      if (!isTooLarge(e)) throw e;
      const headers = { ...(message.headers ?? {}) };
      headers["dlq.value_dropped"] = "the record is larger than the dead-letter topic accepts";
      headers["source.value_bytes"] = String(message.value?.length ?? 0);
      await this.#producer.send({
        topic,
        messages: [{ ...message, value: null, headers }],
        acks: -1,
      });
    }
  }

  /** Sends everything queued; rejects when a send failed (the messages stay queued). */
  async flush(): Promise<void> {
    this.kick();
    await this.#sending;
    if (this.#failed !== undefined) {
      const e = this.#failed;
      this.#failed = undefined;
      throw new Error(`Dead-letter send failed: ${(e as Error).message ?? e}`, { cause: e });
    }
  }
}
