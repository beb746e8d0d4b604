/**
 * @module
 * Operator tooling: dead-letter inspection and replay, consumer-group lag.
 */
export {
  type DlqCounts,
  type DlqFilter,
  dlqList,
  dlqReplay,
  dlqShow,
  type DlqShown,
  REPLAY_LEDGER_TOPIC,
  REPLAYED_FROM_HEADER,
  type ReplayOptions,
  type ReplayReport,
  resolveSourceTopic,
  type SourceTopic,
} from "./dlq_core.ts";
export { consumerLag, formatLag, type PartitionLag } from "./lag_core.ts";
export { readToEnd, type ReadToEndOptions, type TopicMessage } from "./read_to_end.ts";
