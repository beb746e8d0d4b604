/**
 * @module
 * The enriched event: the original event, where it came from, the user's profile, device and
 * country, and calculated fields. One shape for the `enriched_events` Kafka topic (JSON value,
 * key = user_id, headers naming the source record) and for the Parquet output
 * `OUTPUTS_DIR/enriched_events/topic=<topic>/date=<event date>/p<partition>-<first>-<last>.parquet`.
 */
import { isoDate, toIso } from "../../../shared/time.ts";
import type { Column } from "../cdc/offset_files.ts";

/** Folder of the Parquet output below `OUTPUTS_DIR`. */
export const ENRICHED_DIR = "enriched_events";

/** Header names of an `enriched_events` message (values are UTF-8 text). */
export const HEADERS = {
  topic: "source.topic",
  partition: "source.partition",
  offset: "source.offset",
  kafkaTs: "source.kafka_ts",
  eventId: "event_id",
} as const;

/** Flags about the enrichment itself (not risk). */
export const FLAGS = {
  unknownUser: "unknown_user",
  deletedUser: "deleted_user",
  duplicate: "duplicate",
} as const;

/** One enriched event. */
export interface EnrichedEvent {
  /** Actual Kafka topic name of the source record. */
  topic: string;
  partition: number;
  offset: number;
  kafkaTs: number;
  eventId: string;
  userId: string;
  /** Event time, epoch ms. */
  eventTime: number;
  /** The topic's action or event type (`action`, else `event_type`), if any. */
  action: string | null;
  /** The user's profile fields (empty when unknown). */
  profile: Record<string, string>;
  knownUser: boolean;
  deletedUser: boolean;
  /** Source position of the user's last CDC change. */
  profilePosition: string | null;
  device: string | null;
  country: string | null;
  engagementScore: number;
  riskFlags: string[];
  /** `unknown_user`, `deleted_user`, `duplicate`. */
  flags: string[];
  /** The original message value. */
  payload: string;
}

/** The Kafka message of an enriched event. */
export interface EnrichedMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The JSON value written to `enriched_events`. */
export function enrichedJson(e: EnrichedEvent): Record<string, unknown> {
  return {
    source: { topic: e.topic, partition: e.partition, offset: e.offset, kafka_ts: e.kafkaTs },
    event_id: e.eventId,
    user_id: e.userId,
    event_time: toIso(e.eventTime),
    event: JSON.parse(e.payload),
    user: {
      known: e.knownUser,
      deleted: e.deletedUser,
      profile: e.profile,
      source_position: e.profilePosition,
    },
    device: e.device,
    country: e.country,
    engagement_score: e.engagementScore,
    risk_flags: e.riskFlags,
    flags: e.flags,
  };
}

/** The Kafka message of an enriched event: keyed by user, headers naming the source record. */
export function enrichedMessage(e: EnrichedEvent): EnrichedMessage {
  return {
    key: e.userId,
    value: JSON.stringify(enrichedJson(e)),
    headers: {
      [HEADERS.topic]: e.topic,
      [HEADERS.partition]: String(e.partition),
      [HEADERS.offset]: String(e.offset),
      [HEADERS.kafkaTs]: String(e.kafkaTs),
      [HEADERS.eventId]: e.eventId,
    },
  };
}

/** A Parquet row of the enriched output. */
export interface EnrichedRow {
  topic: string;
  partition: number;
  offset: number;
  kafkaTs: number;
  eventId: string;
  userId: string;
  eventTime: number;
  date: string;
  action: string | null;
  knownUser: boolean;
  deletedUser: boolean;
  profileJson: string;
  profilePosition: string | null;
  device: string | null;
  country: string | null;
  engagementScore: number;
  riskFlags: string;
  flags: string;
  payload: string;
}

/** The Parquet row of an enriched event. */
export function enrichedRow(e: EnrichedEvent): EnrichedRow {
  return {
    topic: e.topic,
    partition: e.partition,
    offset: e.offset,
    kafkaTs: e.kafkaTs,
    eventId: e.eventId,
    userId: e.userId,
    eventTime: e.eventTime,
    date: isoDate(e.eventTime),
    action: e.action,
    knownUser: e.knownUser,
    deletedUser: e.deletedUser,
    profileJson: JSON.stringify(e.profile),
    profilePosition: e.profilePosition,
    device: e.device,
    country: e.country,
    engagementScore: e.engagementScore,
    riskFlags: JSON.stringify(e.riskFlags),
    flags: JSON.stringify(e.flags),
    payload: e.payload,
  };
}

const c = (
  name: string,
  field: keyof EnrichedRow & string,
  type: Column<EnrichedRow>["type"],
  nullable = true,
): Column<EnrichedRow> => ({ name, field, type, nullable });

/** Columns of the enriched Parquet output, in file order. */
export const ENRICHED_COLUMNS: readonly Column<EnrichedRow>[] = [
  c("topic", "topic", "utf8", false),
  c("partition", "partition", "int32", false),
  c("offset", "offset", "int64", false),
  c("kafka_ts", "kafkaTs", "int64", false),
  c("event_id", "eventId", "utf8", false),
  c("user_id", "userId", "utf8", false),
  c("event_time", "eventTime", "int64", false),
  c("date", "date", "utf8", false),
  c("action", "action", "utf8"),
  c("known_user", "knownUser", "bool", false),
  c("deleted_user", "deletedUser", "bool", false),
  c("profile_json", "profileJson", "utf8", false),
  c("profile_position", "profilePosition", "utf8"),
  c("device", "device", "utf8"),
  c("country", "country", "utf8"),
  c("engagement_score", "engagementScore", "float64", false),
  c("risk_flags", "riskFlags", "utf8", false),
  c("flags", "flags", "utf8", false),
  c("payload", "payload", "utf8", false),
];
