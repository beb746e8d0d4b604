/**
 * @module
 * The kafkajs client factory: brokers from the configuration, sane retries, kafkajs logs as JSON
 * lines and quiet (errors only) unless asked otherwise.
 */

import {
  Kafka,
  type KafkaConfig,
  type LogEntry,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Producer,
  type ProducerConfig,
  type RetryOptions,
} from "kafkajs";
import process from "node:process";
import type { LogLevel, ResolvedConfig } from "./config.ts";
import { createLogger, type Logger } from "./log.ts";

// kafkajs 2.2.4 schedules timers with a negative delay (harmless, kafkajs issue #1751) and Node's
// timers warn about each one on stderr; drop exactly that warning.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
  const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string })?.type;
  if (type === "TimeoutNegativeWarning") return;
  // deno-lint-ignore no-explicit-any
  return (emitWarning as any).call(process, warning, ...rest);
} as typeof process.emitWarning;

/** The part of the configuration a Kafka client needs. */
export type KafkaClientConfig = Pick<ResolvedConfig, "kafkaBrokers" | "logLevel">;

/** Options of {@linkcode createKafka}. */
export interface CreateKafkaOptions {
  /**
   * Level of kafkajs' own log lines: "quiet" (default) writes only its errors; "config" follows
   * `cfg.logLevel`; "nothing" silences it; or an explicit level. kafkajs is verbose at info.
   */
  logLevel?: LogLevel | "quiet" | "config" | "nothing";
  /** Retry policy of every request; default 8 retries from 200 ms up to 10 s apart. */
  retry?: RetryOptions;
  /** TCP connect time-out; default 5000 ms. */
  connectionTimeoutMs?: number;
  /** Request time-out; default 30000 ms. */
  requestTimeoutMs?: number;
  /** Where kafkajs' lines go; default a JSON logger named `kafkajs`. */
  logger?: Logger;
}

const TO_KAFKAJS: Record<LogLevel, KafkaLogLevel> = {
  debug: KafkaLogLevel.DEBUG,
  info: KafkaLogLevel.INFO,
  warn: KafkaLogLevel.WARN,
  error: KafkaLogLevel.ERROR,
};

const FROM_KAFKAJS: Record<number, LogLevel> = {
  [KafkaLogLevel.DEBUG]: "debug",
  [KafkaLogLevel.INFO]: "info",
  [KafkaLogLevel.WARN]: "warn",
  [KafkaLogLevel.ERROR]: "error",
};

function jsonLogCreator(logger: Logger) {
  return () => (entry: LogEntry) => {
    const { message, timestamp: _ts, logger: _l, ...fields } = entry.log;
    const level = FROM_KAFKAJS[entry.level] ?? "info";
    logger[level](message, { namespace: entry.namespace, ...fields });
  };
}

/**
 * Creates a kafkajs client for the configured brokers.
 * @param cfg brokers and log level
 * @param clientId the Kafka client id, shown in broker logs and consumer group listings
 * @example
 * ```ts
 * const kafka = createKafka(cfg, "speed-layer");
 * const admin = kafka.admin();
 * await admin.connect();
 * ```
 */
export function createKafka(
  cfg: KafkaClientConfig,
  clientId: string,
  opts: CreateKafkaOptions = {},
): Kafka {
  const wanted = opts.logLevel ?? "quiet";
  const level = wanted === "nothing"
    ? KafkaLogLevel.NOTHING
    : wanted === "quiet"
    ? KafkaLogLevel.ERROR
    : TO_KAFKAJS[wanted === "config" ? cfg.logLevel : wanted];
  const config: KafkaConfig = {
    clientId,
    brokers: cfg.kafkaBrokers,
    connectionTimeout: opts.connectionTimeoutMs ?? 5000,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    retry: opts.retry ?? { initialRetryTime: 200, maxRetryTime: 10_000, retries: 8 },
    logLevel: level,
    logCreator: jsonLogCreator(opts.logger ?? createLogger({ name: "kafkajs", level: "debug" })),
  };
  return new Kafka(config);
}

/**
 * A producer with kafkajs' default (murmur2, Java-compatible) partitioner, which
 * `shared/partitioner.ts` reproduces; naming it also silences kafkajs' v2 partitioner warning.
 */
export function createProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config });
}
