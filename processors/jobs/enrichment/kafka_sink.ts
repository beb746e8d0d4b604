/**
 * @module
 * The Kafka {@link EnrichedSink}: one transactional producer per source (topic, partition), with
 * the stable `transactional.id` `<CONSUMER_GROUP>.data_enrichment.<topic>.<partition>`. A commit
 * is one Kafka transaction holding the enriched messages and, through `sendOffsets`, the source
 * offset they reach, stored as the committed offset of the group
 * `<CONSUMER_GROUP>.data_enrichment.eos` (a group no consumer joins; it only records progress).
 * Opening a sink initialises the producer id, which fences the previous owner of the id and
 * aborts its open transaction, then reads that committed offset. A read_committed consumer of
 * `enriched_events` therefore sees each source record's message exactly once.
 */
import type { Admin, Kafka, Producer, Transaction } from "kafkajs";
import { createProducer } from "../../../shared/kafka.ts";
import { type EnrichedMessage, HEADERS } from "./enriched.ts";
import type { EnrichedSink, PartitionSink } from "./sink.ts";

/** Options of {@link kafkaEnrichedSink}. */
export interface KafkaSinkOptions {
  /** The output topic (`enriched_events`, or a test's renamed one). */
  outputTopic: string;
  /** `CONSUMER_GROUP` of the processors: prefix of transactional ids and of the progress group. */
  consumerGroup: string;
  /** Transaction time-out; default 60000 ms (an abandoned transaction aborts after it). */
  transactionTimeoutMs?: number;
}

/** The group whose committed offsets record the enrichment output's progress. */
export function progressGroup(consumerGroup: string): string {
  return `${consumerGroup}.data_enrichment.eos`;
}

/** The transactional id of a source partition's producer. */
export function transactionalId(consumerGroup: string, topic: string, partition: number): string {
  return `${consumerGroup}.data_enrichment.${topic}.${partition}`;
}

class KafkaPartitionSink implements PartitionSink {
  committedNext: number | undefined;
  #kafka: Kafka;
  #admin: () => Promise<Admin>;
  #o: Required<KafkaSinkOptions>;
  #topic: string;
  #partition: number;
  #producer: Producer | undefined;
  /** A commit failed in a way that leaves the producer's state unknown: re-open before use. */
  #broken = false;

  constructor(
    kafka: Kafka,
    admin: () => Promise<Admin>,
    o: Required<KafkaSinkOptions>,
    topic: string,
    partition: number,
  ) {
    this.#kafka = kafka;
    this.#admin = admin;
    this.#o = o;
    this.#topic = topic;
    this.#partition = partition;
  }

  /** Connects, fences older writers (aborting their transaction), reads the committed offset. */
  async open(): Promise<void> {
    await this.#producer?.disconnect().catch(() => {});
    const producer = createProducer(this.#kafka, {
      transactionalId: transactionalId(this.#o.consumerGroup, this.#topic, this.#partition),
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.#o.transactionTimeoutMs,
    });
    await producer.connect();
    this.#producer = producer;
    // The first transaction() call runs InitProducerId: that is what fences and aborts.
    const tx = await producer.transaction();
    await tx.abort();
    const admin = await this.#admin();
    const offsets = await admin.fetchOffsets({
      groupId: progressGroup(this.#o.consumerGroup),
      topics: [this.#topic],
    });
    const p = offsets.find((t) => t.topic === this.#topic)?.partitions
      .find((x) => x.partition === this.#partition);
    const n = p ? Number(p.offset) : -1;
    this.committedNext = n >= 0 ? n : undefined;
    this.#broken = false;
  }

  async commit(messages: readonly EnrichedMessage[], nextOffset: number): Promise<void> {
    if (this.#broken || !this.#producer) {
      await this.open();
      // The failed commit may have committed after all: keep only what is still missing.
      const from = this.committedNext ?? -1;
      if (from >= nextOffset) return;
      messages = messages.filter((m) => Number(m.headers[HEADERS.offset]) >= from);
    }
    let tx: Transaction | undefined;
    try {
      tx = await this.#producer!.transaction();
      if (messages.length > 0) {
        await tx.send({
          topic: this.#o.outputTopic,
          acks: -1,
          messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
        });
      }
      await tx.sendOffsets({
        consumerGroupId: progressGroup(this.#o.consumerGroup),
        topics: [{
          topic: this.#topic,
          partitions: [{ partition: this.#partition, offset: String(nextOffset) }],
        }],
      });
      await tx.commit();
      this.committedNext = nextOffset;
    } catch (e) {
      if (tx?.isActive()) await tx.abort().catch(() => {});
      this.#broken = true;
      throw e;
    }
  }

  async close(): Promise<void> {
    const p = this.#producer;
    this.#producer = undefined;
    await p?.disconnect().catch(() => {});
  }
}

/**
 * The transactional Kafka sink.
 * @param kafka a client for the brokers
 * @param options output topic and consumer group
 */
export function kafkaEnrichedSink(kafka: Kafka, options: KafkaSinkOptions): EnrichedSink {
  const o: Required<KafkaSinkOptions> = {
    transactionTimeoutMs: 60_000,
    ...options,
  };
  let admin: Promise<Admin> | undefined;
  const getAdmin = () =>
    admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })().catch((e) => {
      admin = undefined;
      throw e;
    });
  return {
    async open(topic, partition) {
      const sink = new KafkaPartitionSink(kafka, getAdmin, o, topic, partition);
      await sink.open();
      return sink;
    },
    async close() {
      const a = admin;
      admin = undefined;
      if (a) await (await a.catch(() => undefined))?.disconnect().catch(() => {});
    },
  };
}
