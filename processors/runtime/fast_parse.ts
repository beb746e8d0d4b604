/**
 * @module
 * A fast path in front of `parseEvent` (shared/events.ts) for the stream processors' hot loop.
 * It decodes and parses each record once and checks the common case (a well-formed event) with
 * plain comparisons; anything it does not accept outright — every invalid record, CDC records,
 * unusual keys — goes to `parseEvent`, so rejections are exactly `parseEvent`'s. Accepted events
 * are exactly those `parseEvent` accepts, with the same event time and field values
 * (fast_parse_test.ts checks this against `parseEvent` on generated and mutated records).
 */
import type { TopicKey } from "../../shared/config.ts";
import {
  MAX_EVENT_BYTES,
  MAX_FUTURE_MS,
  parseEvent,
  parseEventTime,
  type Rejection,
  type ValidEvent,
} from "../../shared/events.ts";

/** A parsed record: the event and its text (so it is decoded once), or why it was rejected. */
export type ParsedRecord =
  | { ok: ValidEvent; raw: string | undefined; err?: undefined }
  | { ok?: undefined; raw?: undefined; err: Rejection };

type Check = (v: unknown) => boolean;

const utf8 = new TextDecoder("utf-8", { fatal: true });

const id: Check = (v) => typeof v === "string" && v.length >= 1 && v.length <= 128;
const str: Check = (v) => typeof v === "string";
const nonEmpty: Check = (v) => typeof v === "string" && v.length >= 1;
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const nonNeg: Check = (v) => finite(v) && v >= 0;
const positive: Check = (v) => finite(v) && v > 0;
const pct: Check = (v) => finite(v) && v >= 0 && v <= 100;
const record: Check = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
function oneOf(...values: string[]): Check {
  const set = new Set(values);
  return (v) => typeof v === "string" && set.has(v);
}
function optional(c: Check): Check {
  return (v) => v === undefined || c(v);
}
function nullish(c: Check): Check {
  return (v) => v === undefined || v === null || c(v);
}

const COMMON: [string, Check][] = [["event_id", id], ["user_id", id]];

/** Field checks per topic, mirroring the zod schemas of shared/events.ts. */
const FIELDS: { [K in Exclude<TopicKey, "CDC">]: [string, Check][] } = {
  AUTH: [
    ...COMMON,
    ["action", oneOf("login", "logout", "login_failed")],
    ["session_id", optional(str)],
    ["device", optional(oneOf("mobile", "web", "tablet"))],
    ["country", optional(str)],
  ],
  ASSESSMENT: [
    ...COMMON,
    ["assessment_id", id],
    ["course_id", id],
    ["action", oneOf("started", "submitted", "graded")],
    ["score", optional(nonNeg)],
    ["max_score", optional(positive)],
    ["duration_sec", optional(nonNeg)],
  ],
  VIDEO: [
    ...COMMON,
    ["video_id", id],
    ["course_id", id],
    ["action", oneOf("play", "pause", "seek", "complete", "heartbeat")],
    ["watched_sec", optional(nonNeg)],
    ["position_sec", optional(nonNeg)],
  ],
  COURSE: [
    ...COMMON,
    ["course_id", id],
    ["action", oneOf("enrolled", "unenrolled", "progress", "completed")],
    ["progress_pct", optional(pct)],
  ],
  PROFILE: [...COMMON, ["changes", record]],
  NOTIFICATION: [
    ...COMMON,
    ["notification_id", id],
    ["channel", oneOf("email", "push", "sms", "in_app")],
    ["action", oneOf("sent", "delivered", "opened", "clicked", "failed")],
  ],
  APP_EVENTS: [
    ...COMMON,
    ["event_type", oneOf("page_view", "click", "purchase", "scroll", "search")],
    ["app_type", oneOf("mobile", "web", "api")],
    ["session_id", nonEmpty],
    ["properties", optional(record)],
  ],
  CLICKSTREAM: [
    ...COMMON,
    ["session_id", nonEmpty],
    ["page_url", nonEmpty],
    ["referrer", nullish(str)],
    ["element", nullish(str)],
  ],
};

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * `parseEventTime` of shared/events.ts for the common forms without regular expressions:
 * `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`; anything else is left to `parseEventTime`.
 */
export function eventTimeOf(v: unknown): number | undefined {
  if (typeof v !== "string") return parseEventTime(v);
  const n = v.length;
  if (
    n < 20 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(13) !== 58 ||
    v.charCodeAt(16) !== 58
  ) {
    return parseEventTime(v);
  }
  const sep = v.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return parseEventTime(v);
  const y = digits(v, 0, 4), mo = digits(v, 5, 2), d = digits(v, 8, 2);
  const h = digits(v, 11, 2), mi = digits(v, 14, 2), sec = digits(v, 17, 2);
  if (
    y < 100 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
    sec > 59
  ) {
    return parseEventTime(v);
  }
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (d > (mo === 2 && leap ? 29 : DAYS[mo - 1])) return parseEventTime(v);
  let i = 19, ms = 0;
  if (v.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < n && v.charCodeAt(i) >= 48 && v.charCodeAt(i) <= 57) i++;
    const len = i - start;
    if (len < 1 || len > 9) return parseEventTime(v);
    ms = digits((v.slice(start, Math.min(i, start + 3)) + "00").slice(0, 3), 0, 3);
  }
  let offset = 0;
  const z = v.charCodeAt(i);
  if ((z === 90 || z === 122) && i + 1 === n) offset = 0;
  else if ((z === 43 || z === 45) && i + 6 === n && v.charCodeAt(i + 3) === 58) {
    const oh = digits(v, i + 1, 2), om = digits(v, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return parseEventTime(v);
    offset = (z === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
  } else return parseEventTime(v);
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offset;
}

function hasProto(v: unknown): boolean {
  return typeof v === "object" && v !== null && Object.hasOwn(v, "__proto__");
}

function slow(topic: TopicKey, value: Uint8Array | null, now: number, kafkaTs: number) {
  const r = parseEvent(topic, value, { now, kafkaTimestamp: kafkaTs });
  return r.ok ? { ok: r.ok, raw: undefined } : { err: r.err };
}

/**
 * Parses and validates a record value exactly like `parseEvent(topic, value, { now,
 * kafkaTimestamp })`.
 */
export function parseRecord(
  topic: TopicKey,
  value: Uint8Array | null,
  now: number,
  kafkaTs: number,
): ParsedRecord {
  if (topic === "CDC" || value === null || value.length > MAX_EVENT_BYTES) {
    return slow(topic, value, now, kafkaTs);
  }
  let text: string;
  let data: unknown;
  try {
    text = utf8.decode(value);
    data = JSON.parse(text);
  } catch {
    return slow(topic, value, now, kafkaTs);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return slow(topic, value, now, kafkaTs);
  }
  const d = data as Record<string, unknown>;
  // zod drops "__proto__" keys of objects and records from its output: leave those to parseEvent.
  if (hasProto(d) || hasProto(d.changes) || hasProto(d.properties)) {
    return slow(topic, value, now, kafkaTs);
  }
  const fields = FIELDS[topic];
  for (let i = 0; i < fields.length; i++) {
    if (!fields[i][1](d[fields[i][0]])) return slow(topic, value, now, kafkaTs);
  }
  const ts = d.timestamp;
  if (typeof ts !== "string" && typeof ts !== "number") return slow(topic, value, now, kafkaTs);
  const eventTime = eventTimeOf(ts);
  if (eventTime === undefined || eventTime > now + MAX_FUTURE_MS) {
    return slow(topic, value, now, kafkaTs);
  }
  if (topic === "ASSESSMENT") {
    if (d.action === "graded" && (d.score === undefined || d.max_score === undefined)) {
      return slow(topic, value, now, kafkaTs);
    }
    if (
      typeof d.score === "number" && typeof d.max_score === "number" && d.score > d.max_score
    ) {
      return slow(topic, value, now, kafkaTs);
    }
  } else if (topic === "VIDEO" && d.action === "heartbeat" && d.watched_sec === undefined) {
    return slow(topic, value, now, kafkaTs);
  }
  return { ok: { topic, eventTime, data: d } as ValidEvent, raw: text };
}
