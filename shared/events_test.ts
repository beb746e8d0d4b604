import assert from "node:assert/strict";
import type { TopicKey } from "./config.ts";
import {
  MAX_EVENT_BYTES,
  MAX_FUTURE_MS,
  parseEvent,
  parseEventTime,
  type RejectReason,
  topicKeyByName,
} from "./events.ts";

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const TS = "2026-11-20T11:00:00Z";
const TS_MS = Date.UTC(2026, 10, 20, 11);

type Json = Record<string, unknown>;

/** A minimal valid event of each topic (CDC: a bare payload). */
const VALID: Record<TopicKey, Json> = {
  AUTH: { event_id: "e1", user_id: "u1", timestamp: TS, action: "login" },
  ASSESSMENT: {
    event_id: "e1",
    user_id: "u1",
    timestamp: TS,
    assessment_id: "a1",
    course_id: "c1",
    action: "graded",
    score: 7,
    max_score: 10,
  },
  VIDEO: {
    event_id: "e1",
    user_id: "u1",
    timestamp: TS,
    video_id: "v1",
    course_id: "c1",
    action: "heartbeat",
    watched_sec: 10,
  },
  COURSE: { event_id: "e1", user_id: "u1", timestamp: TS, course_id: "c1", action: "enrolled" },
  PROFILE: { event_id: "e1", user_id: "u1", timestamp: TS, changes: { name: "Ada" } },
  NOTIFICATION: {
    event_id: "e1",
    user_id: "u1",
    timestamp: TS,
    notification_id: "n1",
    channel: "email",
    action: "sent",
  },
  APP_EVENTS: {
    event_id: "e1",
    user_id: "u1",
    timestamp: TS,
    event_type: "click",
    app_type: "web",
    session_id: "s1",
  },
  CLICKSTREAM: { event_id: "e1", user_id: "u1", timestamp: TS, session_id: "s1", page_url: "/a" },
  CDC: {
    before: null,
    after: { id: 1, email: "a@b.c" },
    op: "c",
    source: { table: "users", ts_ms: TS_MS },
    ts_ms: TS_MS,
  },
};

const TOPICS = Object.keys(VALID) as TopicKey[];
const EVENT_TOPICS = TOPICS.filter((t) => t !== "CDC");

/** Enumerated fields of each topic, as in CONTRACTS.md §2. */
const ENUMS: [TopicKey, string, string[]][] = [
  ["AUTH", "action", ["login", "logout", "login_failed"]],
  ["AUTH", "device", ["mobile", "web", "tablet"]],
  ["ASSESSMENT", "action", ["started", "submitted", "graded"]],
  ["VIDEO", "action", ["play", "pause", "seek", "complete", "heartbeat"]],
  ["COURSE", "action", ["enrolled", "unenrolled", "progress", "completed"]],
  ["NOTIFICATION", "channel", ["email", "push", "sms", "in_app"]],
  ["NOTIFICATION", "action", ["sent", "delivered", "opened", "clicked", "failed"]],
  ["APP_EVENTS", "event_type", ["page_view", "click", "purchase", "scroll", "search"]],
  ["APP_EVENTS", "app_type", ["mobile", "web", "api"]],
  ["CDC", "op", ["c", "u", "d", "r", "t"]],
];

function parse(topic: TopicKey, value: Json | string | Uint8Array | null, now = NOW) {
  const input = value === null || typeof value === "string" || value instanceof Uint8Array
    ? value
    : JSON.stringify(value);
  return parseEvent(topic, input, { now, kafkaTimestamp: NOW - 1 });
}

function rejects(
  topic: TopicKey,
  value: Json | string | Uint8Array | null,
  reason: RejectReason,
  field: string,
  now = NOW,
): void {
  const r = parse(topic, value, now);
  const shown = typeof value === "string"
    ? value.slice(0, 80)
    : JSON.stringify(value)?.slice(0, 80);
  assert.ok(r.err, `${topic} ${shown}: expected ${reason}, got ok`);
  assert.deepEqual(
    { reason: r.err.reason, field: r.err.field },
    { reason, field },
    `${topic} ${shown}: ${r.err.detail}`,
  );
  assert.ok(r.err.detail.length > 0);
}

function accepts(topic: TopicKey, value: Json | string, now = NOW) {
  const r = parse(topic, value, now);
  assert.ok(r.ok, `${topic}: expected ok, got ${JSON.stringify(r.err)}`);
  return r.ok;
}

function without(obj: Json, key: string): Json {
  const { [key]: _, ...rest } = obj;
  return rest;
}

// ---- acceptance -------------------------------------------------------------------------------

for (const topic of TOPICS) {
  Deno.test(`a minimal valid ${topic} event is accepted with its event time`, () => {
    const ok = accepts(topic, VALID[topic]);
    assert.equal(ok.topic, topic);
    assert.equal(ok.eventTime, TS_MS);
  });
}

Deno.test("both timestamp forms are accepted: RFC 3339 with offset and epoch ms", () => {
  const forms: [unknown, number][] = [
    ["2026-11-20T11:00:00Z", TS_MS],
    ["2026-11-20T11:00:00.250Z", TS_MS + 250],
    ["2026-11-20T11:00:00.123456789Z", TS_MS + 123],
    ["2026-11-20T16:30:00+05:30", TS_MS],
    ["2026-11-20T06:00:00-05:00", TS_MS],
    ["2026-11-20 11:00:00Z", TS_MS],
    ["2026-11-20t11:00:00z", TS_MS],
    [TS_MS, TS_MS],
    [0, 0],
  ];
  for (const [timestamp, want] of forms) {
    for (const topic of EVENT_TOPICS) {
      assert.equal(accepts(topic, { ...VALID[topic], timestamp }).eventTime, want, `${timestamp}`);
    }
  }
});

Deno.test("extra fields are allowed and kept", () => {
  for (const topic of TOPICS) {
    const ok = accepts(topic, { ...VALID[topic], extra: { nested: [1, 2] }, another: "x" });
    const data = ok.data as Json;
    assert.deepEqual(data.extra, { nested: [1, 2] });
    assert.equal(data.another, "x");
  }
});

Deno.test("optional fields are accepted when valid", () => {
  accepts("AUTH", { ...VALID.AUTH, session_id: "s", device: "tablet", country: "FR" });
  accepts("ASSESSMENT", { ...VALID.ASSESSMENT, duration_sec: 0 });
  accepts("VIDEO", { ...VALID.VIDEO, position_sec: 12.5 });
  accepts("COURSE", { ...VALID.COURSE, action: "progress", progress_pct: 100 });
  accepts("COURSE", { ...VALID.COURSE, action: "progress", progress_pct: 0 });
  accepts("APP_EVENTS", { ...VALID.APP_EVENTS, properties: { q: "x" } });
  accepts("CLICKSTREAM", { ...VALID.CLICKSTREAM, referrer: null, element: "button#go" });
  accepts("CLICKSTREAM", { ...VALID.CLICKSTREAM, referrer: "https://example.com" });
});

Deno.test("bytes and text parse the same", () => {
  const text = JSON.stringify({ ...VALID.AUTH, country: "Zürich 中" });
  const a = parse("AUTH", text);
  const b = parse("AUTH", new TextEncoder().encode(text));
  assert.deepEqual(a, b);
  assert.ok(a.ok);
});

Deno.test("ids of 1 and 128 characters are accepted", () => {
  accepts("AUTH", { ...VALID.AUTH, event_id: "x", user_id: "y".repeat(128) });
});

// ---- invalid_json / not_object / too_large -----------------------------------------------------

Deno.test("invalid_json: text that is not JSON", () => {
  for (const bad of ["", "{", "not json", "{'a': 1}", '{"a":1} trailing']) {
    rejects("AUTH", bad, "invalid_json", "");
    rejects("CDC", bad, "invalid_json", "");
  }
});

Deno.test("invalid_json: bytes that are not UTF-8", () => {
  const bytes = new TextEncoder().encode(JSON.stringify({ ...VALID.AUTH, country: "AB" }));
  const i = bytes.indexOf(0x41); // "A" inside the country value
  bytes[i] = 0xff;
  rejects("AUTH", bytes, "invalid_json", "");
});

Deno.test("invalid_json: a null value (tombstone) outside CDC", () => {
  for (const topic of EVENT_TOPICS) rejects(topic, null, "invalid_json", "");
});

Deno.test("not_object: JSON that is not an object", () => {
  for (const bad of ["[]", "[{}]", "null", "42", '"text"', "true"]) {
    rejects("AUTH", bad, "not_object", "");
    rejects("CDC", bad, "not_object", "");
  }
});

Deno.test("too_large: a value over 1 MiB, counted in UTF-8 bytes", () => {
  const event = (padding: string) => JSON.stringify({ ...VALID.AUTH, padding });
  const base = event("").length;
  const exact = event("x".repeat(MAX_EVENT_BYTES - base));
  assert.equal(new TextEncoder().encode(exact).length, MAX_EVENT_BYTES);
  accepts("AUTH", exact);
  rejects("AUTH", event("x".repeat(MAX_EVENT_BYTES - base + 1)), "too_large", "");
  // 3-byte characters: under the limit in UTF-16 code units, over it in bytes.
  const wide = event("中".repeat(Math.ceil(MAX_EVENT_BYTES / 3)));
  assert.ok(wide.length < MAX_EVENT_BYTES);
  rejects("AUTH", wide, "too_large", "");
  rejects("AUTH", new TextEncoder().encode(wide), "too_large", "");
  rejects("CDC", "[" + " ".repeat(MAX_EVENT_BYTES) + "]", "too_large", "");
});

// ---- missing_field / wrong_type / invalid_value ------------------------------------------------

const REQUIRED: Record<TopicKey, string[]> = {
  AUTH: ["event_id", "user_id", "timestamp", "action"],
  ASSESSMENT: ["event_id", "user_id", "timestamp", "assessment_id", "course_id", "action"],
  VIDEO: ["event_id", "user_id", "timestamp", "video_id", "course_id", "action"],
  COURSE: ["event_id", "user_id", "timestamp", "course_id", "action"],
  PROFILE: ["event_id", "user_id", "timestamp", "changes"],
  NOTIFICATION: ["event_id", "user_id", "timestamp", "notification_id", "channel", "action"],
  APP_EVENTS: ["event_id", "user_id", "timestamp", "event_type", "app_type", "session_id"],
  CLICKSTREAM: ["event_id", "user_id", "timestamp", "session_id", "page_url"],
  CDC: ["op", "source", "ts_ms"],
};

Deno.test("missing_field: every required field of every topic", () => {
  for (const topic of TOPICS) {
    for (const field of REQUIRED[topic]) {
      const base = topic === "ASSESSMENT" ? { ...VALID[topic], action: "started" } : VALID[topic];
      rejects(topic, without(base, field), "missing_field", field);
    }
  }
});

Deno.test("wrong_type: a number or object where a string is required", () => {
  for (const topic of EVENT_TOPICS) {
    for (const field of REQUIRED[topic]) {
      if (field === "timestamp" || field === "changes") continue;
      rejects(topic, { ...VALID[topic], [field]: 42 }, "wrong_type", field);
      rejects(topic, { ...VALID[topic], [field]: { a: 1 } }, "wrong_type", field);
      rejects(topic, { ...VALID[topic], [field]: null }, "wrong_type", field);
    }
  }
});

Deno.test("wrong_type: timestamp neither string nor number", () => {
  for (const timestamp of [true, null, {}, [TS_MS]]) {
    rejects("AUTH", { ...VALID.AUTH, timestamp }, "wrong_type", "timestamp");
  }
});

Deno.test("wrong_type: a string where a number or object is required", () => {
  rejects("ASSESSMENT", { ...VALID.ASSESSMENT, score: "7" }, "wrong_type", "score");
  rejects("ASSESSMENT", { ...VALID.ASSESSMENT, max_score: "10" }, "wrong_type", "max_score");
  rejects("ASSESSMENT", { ...VALID.ASSESSMENT, duration_sec: "1" }, "wrong_type", "duration_sec");
  rejects("VIDEO", { ...VALID.VIDEO, watched_sec: "10" }, "wrong_type", "watched_sec");
  rejects("VIDEO", { ...VALID.VIDEO, position_sec: "1" }, "wrong_type", "position_sec");
  rejects("COURSE", { ...VALID.COURSE, progress_pct: "50" }, "wrong_type", "progress_pct");
  rejects("PROFILE", { ...VALID.PROFILE, changes: "x" }, "wrong_type", "changes");
  rejects("PROFILE", { ...VALID.PROFILE, changes: [1] }, "wrong_type", "changes");
  rejects("PROFILE", { ...VALID.PROFILE, changes: null }, "wrong_type", "changes");
  rejects("APP_EVENTS", { ...VALID.APP_EVENTS, properties: [1] }, "wrong_type", "properties");
  rejects("CLICKSTREAM", { ...VALID.CLICKSTREAM, referrer: 5 }, "wrong_type", "referrer");
  rejects("CDC", { ...VALID.CDC, ts_ms: "1" }, "wrong_type", "ts_ms");
  rejects("CDC", { ...VALID.CDC, source: "users" }, "wrong_type", "source");
  rejects("CDC", { ...VALID.CDC, after: [1] }, "wrong_type", "after");
  rejects("CDC", { ...VALID.CDC, op: 1 }, "wrong_type", "op");
});

for (const [topic, field, values] of ENUMS) {
  Deno.test(`invalid_value: ${topic} ${field} outside {${values.join(", ")}}`, () => {
    const base = topic === "CDC" ? { ...VALID.CDC, before: {}, after: {} } : VALID[topic];
    for (const v of values) {
      const event = { ...base, [field]: v };
      if (topic === "VIDEO" || topic === "ASSESSMENT") Object.assign(event, VALID[topic], event);
      accepts(topic, event);
    }
    for (const bad of ["bogus", "", values[0].toUpperCase(), ` ${values[0]}`]) {
      rejects(topic, { ...base, [field]: bad }, "invalid_value", field);
    }
  });
}

Deno.test("invalid_value: ids empty or longer than 128 characters", () => {
  for (const field of ["event_id", "user_id"]) {
    rejects("AUTH", { ...VALID.AUTH, [field]: "" }, "invalid_value", field);
    rejects("AUTH", { ...VALID.AUTH, [field]: "x".repeat(129) }, "invalid_value", field);
  }
  rejects("VIDEO", { ...VALID.VIDEO, video_id: "" }, "invalid_value", "video_id");
  rejects("APP_EVENTS", { ...VALID.APP_EVENTS, session_id: "" }, "invalid_value", "session_id");
  rejects("CLICKSTREAM", { ...VALID.CLICKSTREAM, page_url: "" }, "invalid_value", "page_url");
});

Deno.test("invalid_value: numbers outside their range", () => {
  rejects("ASSESSMENT", { ...VALID.ASSESSMENT, score: -1 }, "invalid_value", "score");
  rejects("ASSESSMENT", { ...VALID.ASSESSMENT, max_score: 0 }, "invalid_value", "max_score");
  rejects("ASSESSMENT", { ...VALID.ASSESSMENT, duration_sec: -1 }, "invalid_value", "duration_sec");
  rejects("VIDEO", { ...VALID.VIDEO, watched_sec: -0.5 }, "invalid_value", "watched_sec");
  rejects("VIDEO", { ...VALID.VIDEO, position_sec: -1 }, "invalid_value", "position_sec");
  rejects("COURSE", { ...VALID.COURSE, progress_pct: 100.01 }, "invalid_value", "progress_pct");
  rejects("COURSE", { ...VALID.COURSE, progress_pct: -1 }, "invalid_value", "progress_pct");
});

Deno.test("invalid_value: score above max_score names score", () => {
  rejects(
    "ASSESSMENT",
    { ...VALID.ASSESSMENT, score: 10.5, max_score: 10 },
    "invalid_value",
    "score",
  );
  accepts("ASSESSMENT", { ...VALID.ASSESSMENT, score: 10, max_score: 10 });
  accepts("ASSESSMENT", { ...VALID.ASSESSMENT, score: 0, max_score: 10 });
});

Deno.test("missing_field: graded without score or max_score", () => {
  rejects("ASSESSMENT", without(VALID.ASSESSMENT, "score"), "missing_field", "score");
  rejects("ASSESSMENT", without(VALID.ASSESSMENT, "max_score"), "missing_field", "max_score");
  for (const action of ["started", "submitted"]) {
    accepts("ASSESSMENT", { ...without(without(VALID.ASSESSMENT, "score"), "max_score"), action });
  }
});

Deno.test("missing_field: heartbeat without watched_sec", () => {
  rejects("VIDEO", without(VALID.VIDEO, "watched_sec"), "missing_field", "watched_sec");
  accepts("VIDEO", { ...without(VALID.VIDEO, "watched_sec"), action: "play" });
  accepts("VIDEO", { ...VALID.VIDEO, watched_sec: 0 });
});

// ---- timestamps --------------------------------------------------------------------------------

Deno.test("invalid_timestamp: strings that are not RFC 3339 with offset, bad epoch ms", () => {
  for (
    const timestamp of [
      "2026-11-20T11:00:00", // no offset
      "2026-11-20", // date only
      "2026-11-20T11:00Z", // no seconds
      "2026-02-30T11:00:00Z", // no such day
      "2026-13-01T11:00:00Z",
      "2026-11-20T24:00:00Z",
      "2026-11-20T11:60:00Z",
      "2026-11-20T11:00:00+24:00",
      "20261120T110000Z",
      "1763636400000", // epoch ms as a string
      "yesterday",
      "",
      -1,
      1.5,
      1e20,
    ]
  ) {
    rejects("AUTH", { ...VALID.AUTH, timestamp }, "invalid_timestamp", "timestamp");
  }
});

Deno.test("future_timestamp: more than 5 minutes ahead, the boundary itself accepted", () => {
  assert.equal(MAX_FUTURE_MS, 300_000);
  const at = (ms: number) => ({ ...VALID.AUTH, timestamp: ms });
  accepts("AUTH", at(NOW + MAX_FUTURE_MS));
  rejects("AUTH", at(NOW + MAX_FUTURE_MS + 1), "future_timestamp", "timestamp");
  accepts("AUTH", { ...VALID.AUTH, timestamp: "2026-11-20T12:05:00Z" });
  rejects(
    "AUTH",
    { ...VALID.AUTH, timestamp: "2026-11-20T12:05:00.001Z" },
    "future_timestamp",
    "timestamp",
  );
  rejects(
    "AUTH",
    { ...VALID.AUTH, timestamp: "2026-11-20T13:06:00+01:00" },
    "future_timestamp",
    "timestamp",
  );
  accepts("AUTH", at(NOW - 30 * 86_400_000)); // the past is fine
});

Deno.test("the future check uses the injected clock", () => {
  const later = { ...VALID.AUTH, timestamp: NOW + 3_600_000 };
  rejects("AUTH", later, "future_timestamp", "timestamp");
  accepts("AUTH", later, NOW + 3_600_000);
});

Deno.test("parseEventTime: both forms, undefined when malformed", () => {
  assert.equal(parseEventTime(TS), TS_MS);
  assert.equal(parseEventTime(TS_MS), TS_MS);
  assert.equal(parseEventTime("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  assert.equal(parseEventTime("2023-02-29T00:00:00Z"), undefined);
  assert.equal(parseEventTime(null), undefined);
  assert.equal(parseEventTime("2026-11-20T11:00:00"), undefined);
});

// ---- CDC ---------------------------------------------------------------------------------------

Deno.test("CDC: the Debezium wrapper and the bare payload are both accepted", () => {
  const bare = accepts("CDC", VALID.CDC);
  const wrapped = accepts("CDC", { schema: { type: "struct" }, payload: VALID.CDC });
  assert.deepEqual(wrapped.data, bare.data);
  assert.equal(wrapped.eventTime, TS_MS);
});

Deno.test("CDC: every op is accepted with the row states it needs", () => {
  const src = { source: { table: "users", ts_ms: TS_MS }, ts_ms: TS_MS };
  accepts("CDC", { ...src, op: "c", before: null, after: { id: 1 } });
  accepts("CDC", { ...src, op: "r", after: { id: 1 } });
  accepts("CDC", { ...src, op: "u", before: { id: 1 }, after: { id: 1, x: 2 } });
  accepts("CDC", { ...src, op: "d", before: { id: 1 }, after: null });
  accepts("CDC", { ...src, op: "d", before: null, after: null });
  accepts("CDC", { ...src, op: "t" });
  for (const op of ["c", "u", "d", "r", "t"]) {
    accepts("CDC", { payload: { ...src, op, before: { id: 1 }, after: { id: 1 } } });
  }
});

Deno.test("CDC: c, u and r without after, d without before are missing_field", () => {
  const src = { source: { table: "users", ts_ms: TS_MS }, ts_ms: TS_MS };
  for (const op of ["c", "u", "r"]) {
    rejects("CDC", { ...src, op, before: { id: 1 } }, "missing_field", "after");
    rejects("CDC", { payload: { ...src, op, after: null } }, "missing_field", "after");
  }
  rejects("CDC", { ...src, op: "d" }, "missing_field", "before");
});

Deno.test("CDC: a null value is a tombstone, valid at the Kafka timestamp", () => {
  const r = parse("CDC", null);
  assert.ok(r.ok);
  assert.deepEqual(r.ok, { topic: "CDC", eventTime: NOW - 1, data: null });
  const noKafkaTs = parseEvent("CDC", null, { now: NOW });
  assert.equal(noKafkaTs.ok?.eventTime, NOW);
});

Deno.test("CDC: missing source.table or source is missing_field", () => {
  rejects("CDC", { ...VALID.CDC, source: { ts_ms: TS_MS } }, "missing_field", "source.table");
  rejects(
    "CDC",
    { payload: { ...VALID.CDC, source: { ts_ms: TS_MS } } },
    "missing_field",
    "source.table",
  );
  rejects("CDC", { ...VALID.CDC, source: { table: "users" } }, "missing_field", "source.ts_ms");
  rejects(
    "CDC",
    { ...VALID.CDC, source: { table: "", ts_ms: 1 } },
    "invalid_value",
    "source.table",
  );
  rejects("CDC", without(VALID.CDC, "source"), "missing_field", "source");
  rejects("CDC", { schema: {}, payload: null }, "missing_field", "op");
});

Deno.test("CDC: the event time is the payload ts_ms and must not be in the future", () => {
  const ok = accepts("CDC", { ...VALID.CDC, ts_ms: TS_MS + 5 });
  assert.equal(ok.eventTime, TS_MS + 5);
  accepts("CDC", { ...VALID.CDC, ts_ms: NOW + MAX_FUTURE_MS });
  rejects("CDC", { ...VALID.CDC, ts_ms: NOW + MAX_FUTURE_MS + 1 }, "future_timestamp", "ts_ms");
  rejects("CDC", { ...VALID.CDC, ts_ms: 1.5 }, "wrong_type", "ts_ms"); // zod: "expected int"
});

Deno.test("CDC: extra Debezium fields are kept", () => {
  const ok = accepts("CDC", {
    ...VALID.CDC,
    transaction: null,
    source: { ...(VALID.CDC.source as Json), db: "app", lsn: 42 },
  });
  const data = ok.data as Json;
  assert.equal(data.transaction, null);
  assert.equal((data.source as Json).lsn, 42);
});

// ---- helpers -----------------------------------------------------------------------------------

Deno.test("topicKeyByName maps actual names back to logical topics", () => {
  const m = topicKeyByName({ ...{} as Record<TopicKey, string>, VIDEO: "video_events", AUTH: "a" });
  assert.equal(m.get("video_events"), "VIDEO");
  assert.equal(m.get("a"), "AUTH");
  assert.equal(m.get("video_topic"), undefined);
});
