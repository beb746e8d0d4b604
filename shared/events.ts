/**
 * @module
 * Event contracts of CONTRACTS.md §2: one zod definition per topic gives the TypeScript type and the
 * runtime check. Parsing never throws: it returns `{ ok }` or `{ err: { reason, field } }` so bad
 * records can be routed to the dead-letter topic as data.
 */
import { z } from "zod";
import type { TopicKey } from "./config.ts";

/** Largest accepted message value, in bytes (1 MiB). */
export const MAX_EVENT_BYTES = 1024 * 1024;
/** How far in the future an event time may be (5 minutes). */
export const MAX_FUTURE_MS = 5 * 60_000;

/** Why an event was rejected; the `error.reason` header of the DLQ message. */
export type RejectReason =
  | "invalid_json"
  | "not_object"
  | "too_large"
  | "missing_field"
  | "wrong_type"
  | "invalid_value"
  | "invalid_timestamp"
  | "future_timestamp";

/** A rejected event: the reason, the offending field (dotted path, "" for the whole message). */
export interface Rejection {
  reason: RejectReason;
  field: string;
  detail: string;
}

export type ParseResult<T> = { ok: T; err?: undefined } | { ok?: undefined; err: Rejection };

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

const id = z.string().min(1).max(128);
const timestamp = z.union([z.string(), z.number()]);
const num = z.number();
const common = { event_id: id, user_id: id, timestamp };

export const authEvent = z.looseObject({
  ...common,
  action: z.enum(["login", "logout", "login_failed"]),
  session_id: z.string().optional(),
  device: z.enum(["mobile", "web", "tablet"]).optional(),
  country: z.string().optional(),
});
export const assessmentEvent = z.looseObject({
  ...common,
  assessment_id: id,
  course_id: id,
  action: z.enum(["started", "submitted", "graded"]),
  score: num.min(0).optional(),
  max_score: num.gt(0).optional(),
  duration_sec: num.min(0).optional(),
});
export const videoEvent = z.looseObject({
  ...common,
  video_id: id,
  course_id: id,
  action: z.enum(["play", "pause", "seek", "complete", "heartbeat"]),
  watched_sec: num.min(0).optional(),
  position_sec: num.min(0).optional(),
});
export const courseEvent = z.looseObject({
  ...common,
  course_id: id,
  action: z.enum(["enrolled", "unenrolled", "progress", "completed"]),
  progress_pct: num.min(0).max(100).optional(),
});
export const profileEvent = z.looseObject({
  ...common,
  changes: z.record(z.string(), z.unknown()),
});
export const notificationEvent = z.looseObject({
  ...common,
  notification_id: id,
  channel: z.enum(["email", "push", "sms", "in_app"]),
  action: z.enum(["sent", "delivered", "opened", "clicked", "failed"]),
});
export const appEvent = z.looseObject({
  ...common,
  event_type: z.enum(["page_view", "click", "purchase", "scroll", "search"]),
  app_type: z.enum(["mobile", "web", "api"]),
  session_id: z.string().min(1),
  properties: z.record(z.string(), z.unknown()).optional(),
});
export const clickstreamEvent = z.looseObject({
  ...common,
  session_id: z.string().min(1),
  page_url: z.string().min(1),
  referrer: z.string().optional().nullable(),
  element: z.string().optional().nullable(),
});
const rowState = z.record(z.string(), z.unknown()).nullable().optional();
export const cdcPayload = z.looseObject({
  before: rowState,
  after: rowState,
  op: z.enum(["c", "u", "d", "r", "t"]),
  source: z.looseObject({ table: z.string().min(1), ts_ms: num.int() }),
  ts_ms: num.int(),
});

export type AuthEvent = z.infer<typeof authEvent>;
export type AssessmentEvent = z.infer<typeof assessmentEvent>;
export type VideoEvent = z.infer<typeof videoEvent>;
export type CourseEvent = z.infer<typeof courseEvent>;
export type ProfileEvent = z.infer<typeof profileEvent>;
export type NotificationEvent = z.infer<typeof notificationEvent>;
export type AppEvent = z.infer<typeof appEvent>;
export type ClickstreamEvent = z.infer<typeof clickstreamEvent>;
export type CdcPayload = z.infer<typeof cdcPayload>;

/** The event type of each logical topic (CDC: the payload, or null for a tombstone). */
export interface EventOf {
  AUTH: AuthEvent;
  ASSESSMENT: AssessmentEvent;
  VIDEO: VideoEvent;
  COURSE: CourseEvent;
  PROFILE: ProfileEvent;
  NOTIFICATION: NotificationEvent;
  APP_EVENTS: AppEvent;
  CLICKSTREAM: ClickstreamEvent;
  CDC: CdcPayload | null;
}

const SCHEMAS: { [K in Exclude<TopicKey, "CDC">]: z.ZodType<EventOf[K]> } = {
  AUTH: authEvent,
  ASSESSMENT: assessmentEvent,
  VIDEO: videoEvent,
  COURSE: courseEvent,
  PROFILE: profileEvent,
  NOTIFICATION: notificationEvent,
  APP_EVENTS: appEvent,
  CLICKSTREAM: clickstreamEvent,
};

/** A valid event: its logical topic, event time (epoch ms, UTC) and typed body. */
export type ValidEvent = {
  [K in TopicKey]: { topic: K; eventTime: number; data: EventOf[K] };
}[TopicKey];

/** Options of {@link parseEvent}. */
export interface ParseOptions {
  /** Current time for the future check; default `Date.now()`. */
  now?: number;
  /** Kafka message timestamp, used as the event time of a CDC tombstone; default `now`. */
  kafkaTimestamp?: number;
}

function reject(reason: RejectReason, field: string, detail: string): { err: Rejection } {
  return { err: { reason, field, detail } };
}

/**
 * Parses an event time: RFC 3339 with offset, or integer epoch milliseconds.
 * @returns epoch ms, or undefined when malformed
 */
export function parseEventTime(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  const m = typeof value === "string" ? RFC3339.exec(value) : null;
  if (!m) return undefined;
  // Date.parse rolls "02-30" over to March and "24:00" to the next day: check the fields first.
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  const daysInMonth = new Date(Date.UTC(2000 + (y % 400), mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || sec > 59) {
    return undefined;
  }
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
  const ms = Date.parse(m[0].replace(" ", "T"));
  return Number.isFinite(ms) ? ms : undefined;
}

function fromIssue(issue: z.core.$ZodIssue, input: unknown): Rejection {
  const field = issue.path.map(String).join(".");
  let at: unknown = input;
  for (const p of issue.path) at = (at as Record<PropertyKey, unknown> | undefined)?.[p as string];
  // zod reports a missing enum as invalid_value and a missing union as invalid_union.
  if (at === undefined) {
    return { reason: "missing_field", field, detail: `missing required field "${field}"` };
  }
  if (issue.code === "invalid_type") {
    return { reason: "wrong_type", field, detail: `"${field}": ${issue.message}` };
  }
  if (issue.code === "invalid_value" && typeof at !== "string") {
    return {
      reason: "wrong_type",
      field,
      detail: `"${field}": expected a string, got ${
        at === null ? "null" : Array.isArray(at) ? "array" : typeof at
      }`,
    };
  }
  if (issue.code === "invalid_union" && field === "timestamp") {
    return {
      reason: "wrong_type",
      field,
      detail: `"timestamp" must be an RFC 3339 string or epoch ms`,
    };
  }
  return { reason: "invalid_value", field, detail: `"${field}": ${issue.message}` };
}

function checkTime(ms: number | undefined, field: string, now: number): Rejection | undefined {
  if (ms === undefined) {
    return { reason: "invalid_timestamp", field, detail: `"${field}" is not RFC 3339 or epoch ms` };
  }
  if (ms > now + MAX_FUTURE_MS) {
    return {
      reason: "future_timestamp",
      field,
      detail: `"${field}" is ${Math.round((ms - now) / 1000)} s in the future (limit 300 s)`,
    };
  }
  return undefined;
}

function parseCdc(obj: Record<string, unknown>, now: number): ParseResult<ValidEvent> {
  const payload = "payload" in obj && typeof obj.payload === "object" && obj.payload !== null &&
      !Array.isArray(obj.payload)
    ? obj.payload as Record<string, unknown>
    : obj;
  const r = cdcPayload.safeParse(payload);
  if (!r.success) return { err: fromIssue(r.error.issues[0], payload) };
  const p = r.data;
  if ((p.op === "c" || p.op === "r" || p.op === "u") && !p.after) {
    return reject("missing_field", "after", `op "${p.op}" needs an "after" row state`);
  }
  if (p.op === "d" && p.before === undefined) {
    return reject("missing_field", "before", `op "d" needs a "before" row state (may be null)`);
  }
  const bad = checkTime(p.ts_ms, "ts_ms", now);
  if (bad) return { err: bad };
  return { ok: { topic: "CDC", eventTime: p.ts_ms, data: p } };
}

/**
 * Parses and validates one Kafka message value of a topic.
 * @param topic the logical topic (the `TOPIC_` suffix)
 * @param value the message value (bytes or text); null is a tombstone (valid only on CDC)
 */
export function parseEvent(
  topic: TopicKey,
  value: Uint8Array | string | null,
  options: ParseOptions = {},
): ParseResult<ValidEvent> {
  const now = options.now ?? Date.now();
  if (value === null) {
    if (topic === "CDC") {
      return { ok: { topic: "CDC", eventTime: options.kafkaTimestamp ?? now, data: null } };
    }
    return reject("invalid_json", "", "empty message value (tombstone) on a non-CDC topic");
  }
  const size = typeof value === "string" ? new TextEncoder().encode(value).length : value.length;
  if (size > MAX_EVENT_BYTES) {
    return reject("too_large", "", `message is ${size} bytes, limit ${MAX_EVENT_BYTES}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === "string" ? value : utf8.decode(value));
  } catch (e) {
    return reject("invalid_json", "", `not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return reject(
      "not_object",
      "",
      `expected a JSON object, got ${
        Array.isArray(parsed) ? "array" : parsed === null ? "null" : typeof parsed
      }`,
    );
  }
  if (topic === "CDC") return parseCdc(parsed as Record<string, unknown>, now);
  const r = SCHEMAS[topic].safeParse(parsed);
  if (!r.success) return { err: fromIssue(r.error.issues[0], parsed) };
  const data = r.data as Record<string, unknown>;
  const bad = checkTime(parseEventTime(data.timestamp), "timestamp", now);
  if (bad) return { err: bad };
  if (topic === "ASSESSMENT" && data.action === "graded") {
    if (data.score === undefined) {
      return reject("missing_field", "score", `"score" is required when action is graded`);
    }
    if (data.max_score === undefined) {
      return reject("missing_field", "max_score", `"max_score" is required when action is graded`);
    }
  }
  if (
    typeof data.score === "number" && typeof data.max_score === "number" &&
    data.score > data.max_score
  ) {
    return reject(
      "invalid_value",
      "score",
      `"score" ${data.score} exceeds "max_score" ${data.max_score}`,
    );
  }
  if (topic === "VIDEO" && data.action === "heartbeat" && data.watched_sec === undefined) {
    return reject(
      "missing_field",
      "watched_sec",
      `"watched_sec" is required when action is heartbeat`,
    );
  }
  return {
    ok: { topic, eventTime: parseEventTime(data.timestamp)!, data } as ValidEvent,
  };
}

/** Maps an actual Kafka topic name back to its logical topic. */
export function topicKeyByName(topics: Record<TopicKey, string>): Map<string, TopicKey> {
  return new Map(Object.entries(topics).map(([k, v]) => [v, k as TopicKey]));
}
