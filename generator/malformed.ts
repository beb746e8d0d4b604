/**
 * @module
 * Malformed records: a valid event corrupted so that `parseEvent` rejects it with one intended
 * reason of DESIGN.md "Validation". Every reason can be produced; `malformed_test.ts` checks each
 * variant against `parseEvent`.
 */
import type { TopicKey } from "../shared/config.ts";
import { MAX_EVENT_BYTES, type RejectReason } from "../shared/events.ts";
import type { Rng } from "./_rng.ts";

/** Every rejection reason the generator produces. */
export const MALFORMED_REASONS: readonly RejectReason[] = [
  "invalid_json",
  "not_object",
  "too_large",
  "missing_field",
  "wrong_type",
  "invalid_value",
  "invalid_timestamp",
  "future_timestamp",
];

/** A corrupted message value and why it must be rejected. */
export interface Malformed {
  value: string | null;
  reason: RejectReason;
  /** The field `parseEvent` is expected to name ("" for the whole message). */
  field: string;
}

/** Options of {@link malform}. */
export interface MalformOptions {
  /** The instant the future check is made against; future timestamps are 1-2 years after it. */
  now: number;
  /** CDC only: wrap the payload as `{schema, payload}`; default false. */
  wrapped?: boolean;
}

type Body = Record<string, unknown>;

/** Required fields per topic whose absence gives `missing_field` (timestamp is left out on purpose:
 * a missing union field is reported as `wrong_type` by the schema library). */
const REQUIRED: Record<Exclude<TopicKey, "CDC">, string[]> = {
  AUTH: ["event_id", "user_id", "action"],
  ASSESSMENT: ["event_id", "user_id", "assessment_id", "course_id", "action"],
  VIDEO: ["event_id", "user_id", "video_id", "course_id", "action"],
  COURSE: ["event_id", "user_id", "course_id", "action"],
  PROFILE: ["event_id", "user_id", "changes"],
  NOTIFICATION: ["event_id", "user_id", "notification_id", "channel", "action"],
  APP_EVENTS: ["event_id", "user_id", "event_type", "app_type", "session_id"],
  CLICKSTREAM: ["event_id", "user_id", "session_id", "page_url"],
};

/** Enum fields per topic and a value outside the enum. */
const BAD_ENUM: Record<Exclude<TopicKey, "CDC">, Array<[string, string]>> = {
  AUTH: [["action", "teleport"], ["device", "smart_fridge"]],
  ASSESSMENT: [["action", "cheated"]],
  VIDEO: [["action", "rewind_all"]],
  COURSE: [["action", "liked"]],
  PROFILE: [],
  NOTIFICATION: [["channel", "pigeon"], ["action", "bounced"]],
  APP_EVENTS: [["event_type", "hover"], ["app_type", "desktop"]],
  CLICKSTREAM: [],
};

/** The reasons that can be produced for a topic (CDC has no RFC 3339 timestamp to break). */
export function reasonsFor(topic: TopicKey): readonly RejectReason[] {
  return topic === "CDC"
    ? MALFORMED_REASONS.filter((r) => r !== "invalid_timestamp")
    : MALFORMED_REASONS;
}

/**
 * Corrupts a valid event so that it is rejected with `reason`.
 * @param topic the logical topic of the event
 * @param body the valid event object (CDC: the bare Debezium payload); not modified
 * @param reason the intended rejection reason; must be in {@link reasonsFor}(topic)
 * @param rng the generator's PRNG
 * @throws {RangeError} when the reason cannot be produced for the topic
 */
export function malform(
  topic: TopicKey,
  body: Body,
  reason: RejectReason,
  rng: Rng,
  options: MalformOptions,
): Malformed {
  if (!reasonsFor(topic).includes(reason)) {
    throw new RangeError(`Cannot malform a ${topic} event with reason "${reason}"`);
  }
  const copy = structuredClone(body);
  const wrap = (b: Body) =>
    JSON.stringify(
      topic === "CDC" && options.wrapped ? { schema: CDC_SCHEMA_STUB, payload: b } : b,
    );
  switch (reason) {
    case "invalid_json":
      return { reason, field: "", value: brokenJson(topic, wrap(copy), rng) };
    case "not_object": {
      const variants = [
        `[${wrap(copy)}]`,
        JSON.stringify(String(copy.event_id ?? "x")),
        "42",
        "null",
        "true",
      ];
      return { reason, field: "", value: rng.pick(variants) };
    }
    case "too_large": {
      // A crash dump pasted into an event: built by concatenation so it costs no JSON encoding.
      const json = wrap(copy);
      const pad = PADDING.slice(0, MAX_EVENT_BYTES + rng.int(1, 2048));
      return { reason, field: "", value: `${json.slice(0, -1)},"debug_dump":"${pad}"}` };
    }
    case "missing_field":
      return topic === "CDC" ? cdcMissing(copy, rng, wrap) : missing(topic, copy, rng);
    case "wrong_type":
      return topic === "CDC" ? cdcWrongType(copy, rng, wrap) : wrongType(topic, copy, rng);
    case "invalid_value":
      return topic === "CDC" ? cdcInvalid(copy, rng, wrap) : invalidValue(topic, copy, rng);
    case "invalid_timestamp": {
      copy.timestamp = rng.pick<unknown>([
        "yesterday",
        "",
        "2026-11-20 25:61:00Z",
        "20/11/2026 10:00",
        "2026-11-20T10:00:00",
        -1,
        1.5,
      ]);
      return { reason, field: "timestamp", value: JSON.stringify(copy) };
    }
    case "future_timestamp": {
      const t = options.now + rng.int(365, 730) * 86_400_000 + rng.int(0, 86_399_999);
      if (topic === "CDC") {
        copy.ts_ms = t;
        return { reason, field: "ts_ms", value: wrap(copy) };
      }
      copy.timestamp = rng.chance(0.5) ? new Date(t).toISOString() : t;
      return { reason, field: "timestamp", value: JSON.stringify(copy) };
    }
  }
  throw new RangeError(`Cannot malform: unknown reason "${reason}"`);
}

function brokenJson(topic: TopicKey, json: string, rng: Rng): string | null {
  const variant = rng.int(0, topic === "CDC" ? 2 : 3);
  if (variant === 0) return json.slice(0, rng.int(1, json.length - 1)); // truncated in transit
  if (variant === 1) return json.slice(0, -1) + ",}"; // trailing comma
  if (variant === 2) return json.replaceAll('"', "'"); // single quotes
  return null; // a tombstone on a non-CDC topic
}

function missing(topic: Exclude<TopicKey, "CDC">, b: Body, rng: Rng): Malformed {
  const conditional: string[] = [];
  if (topic === "ASSESSMENT" && b.action === "graded") conditional.push("score", "max_score");
  if (topic === "VIDEO" && b.action === "heartbeat") conditional.push("watched_sec");
  const field = rng.pick([...REQUIRED[topic], ...conditional]);
  delete b[field];
  return { reason: "missing_field", field, value: JSON.stringify(b) };
}

function wrongType(topic: Exclude<TopicKey, "CDC">, b: Body, rng: Rng): Malformed {
  const options: Array<[string, unknown]> = [
    ["user_id", Number(String(b.user_id).replace(/\D/g, "")) || 7],
    ["event_id", 1234567],
    ["timestamp", rng.pick<unknown>([true, { ms: b.timestamp }, null])],
  ];
  if (topic === "VIDEO" && b.action === "heartbeat") {
    options.push(["watched_sec", String(b.watched_sec)]);
  }
  if (topic === "ASSESSMENT" && b.action === "graded") options.push(["score", String(b.score)]);
  if (topic === "PROFILE") options.push(["changes", "display_name=bob"]);
  if (topic === "APP_EVENTS") options.push(["properties", "n/a"]);
  if (topic === "COURSE" && b.progress_pct !== undefined) options.push(["progress_pct", "50%"]);
  const [field, value] = rng.pick(options);
  b[field] = value;
  return { reason: "wrong_type", field, value: JSON.stringify(b) };
}

function invalidValue(topic: Exclude<TopicKey, "CDC">, b: Body, rng: Rng): Malformed {
  const options: Array<[string, () => void]> = [
    ["event_id", () => (b.event_id = "")],
    ["user_id", () => (b.user_id = "u".repeat(129))],
  ];
  for (const [field, bad] of BAD_ENUM[topic]) options.push([field, () => (b[field] = bad)]);
  if (topic === "ASSESSMENT" && typeof b.max_score === "number") {
    options.push(["score", () => (b.score = (b.max_score as number) + rng.int(1, 10))]);
    options.push(["max_score", () => (b.max_score = 0)]);
  }
  if (topic === "COURSE") {
    options.push(["progress_pct", () => (b.progress_pct = rng.int(101, 250))]);
  }
  if (topic === "VIDEO") options.push(["position_sec", () => (b.position_sec = -rng.int(1, 30))]);
  const [field, apply] = rng.pick(options);
  apply();
  return { reason: "invalid_value", field, value: JSON.stringify(b) };
}

function cdcMissing(b: Body, rng: Rng, wrap: (b: Body) => string): Malformed {
  const options = ["source", "ts_ms", "source.table"];
  if (b.op === "c" || b.op === "u" || b.op === "r") options.push("after");
  if (b.op === "d") options.push("before");
  const field = rng.pick(options);
  if (field === "source.table") delete (b.source as Body).table;
  else delete b[field];
  return { reason: "missing_field", field, value: wrap(b) };
}

function cdcWrongType(b: Body, rng: Rng, wrap: (b: Body) => string): Malformed {
  const field = rng.pick(["ts_ms", "after", "source"]);
  if (field === "ts_ms") b.ts_ms = String(b.ts_ms);
  else if (field === "after") b.after = "id=u1";
  else b.source = "postgres";
  return { reason: "wrong_type", field, value: wrap(b) };
}

function cdcInvalid(b: Body, rng: Rng, wrap: (b: Body) => string): Malformed {
  b.op = rng.pick(["x", "insert", "U"]);
  return { reason: "invalid_value", field: "op", value: wrap(b) };
}

const PADDING = "x".repeat(MAX_EVENT_BYTES + 4096);

/** A short Debezium-like schema stub for wrapped malformed CDC values. */
const CDC_SCHEMA_STUB = { type: "struct", name: "edu.public.users.Envelope", optional: false };
