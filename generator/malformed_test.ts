import assert from "node:assert/strict";
import { TOPIC_KEYS, type TopicKey } from "../shared/config.ts";
import { parseEvent } from "../shared/events.ts";
import { Rng } from "./_rng.ts";
import { malform, MALFORMED_REASONS, reasonsFor } from "./malformed.ts";

const NOW = Date.parse("2026-11-20T12:00:00Z");
const common = { event_id: "e-1", user_id: "u000001", timestamp: "2026-11-20T11:00:00Z" };
const SAMPLES: Record<TopicKey, Record<string, unknown>[]> = {
  AUTH: [{ ...common, action: "login", session_id: "s-1", device: "web", country: "DE" }],
  ASSESSMENT: [
    { ...common, assessment_id: "c001-a1", course_id: "c001", action: "started" },
    {
      ...common,
      assessment_id: "c001-a1",
      course_id: "c001",
      action: "graded",
      score: 7,
      max_score: 10,
    },
  ],
  VIDEO: [
    { ...common, video_id: "c001-v01", course_id: "c001", action: "play", position_sec: 0 },
    { ...common, video_id: "c001-v01", course_id: "c001", action: "heartbeat", watched_sec: 30 },
  ],
  COURSE: [{ ...common, course_id: "c001", action: "progress", progress_pct: 40 }],
  PROFILE: [{ ...common, changes: { locale: "de-DE" } }],
  NOTIFICATION: [{ ...common, notification_id: "n-1", channel: "push", action: "sent" }],
  APP_EVENTS: [{
    ...common,
    event_type: "click",
    app_type: "web",
    session_id: "s-1",
    properties: {},
  }],
  CLICKSTREAM: [{ ...common, session_id: "s-1", page_url: "https://x/home", referrer: null }],
  CDC: [
    {
      before: null,
      after: { id: "u000001" },
      op: "c",
      source: { table: "users", ts_ms: NOW - 10 },
      ts_ms: NOW - 5,
    },
    {
      before: { id: "u000001" },
      after: null,
      op: "d",
      source: { table: "users", ts_ms: NOW },
      ts_ms: NOW,
    },
  ],
};

Deno.test("samples used for corruption are valid to begin with", () => {
  for (const topic of TOPIC_KEYS) {
    for (const body of SAMPLES[topic]) {
      const r = parseEvent(topic, JSON.stringify(body), { now: NOW });
      assert.ok(r.ok, `${topic}: ${JSON.stringify(r.err)}`);
    }
  }
});

Deno.test("every malformed variant is rejected with its intended reason and field", () => {
  const rng = new Rng(11);
  const seen = new Set<string>();
  for (const topic of TOPIC_KEYS) {
    for (const body of SAMPLES[topic]) {
      for (const reason of reasonsFor(topic)) {
        for (let i = 0; i < 40; i++) {
          const wrapped = topic === "CDC" && i % 2 === 0;
          const m = malform(topic, body, reason, rng, { now: NOW, wrapped });
          const r = parseEvent(topic, m.value, { now: NOW, kafkaTimestamp: NOW });
          assert.ok(r.err, `${topic}/${reason} accepted: ${m.value?.slice(0, 200)}`);
          assert.equal(r.err.reason, reason, `${topic}/${reason}: ${m.value?.slice(0, 200)}`);
          if (m.field !== "") assert.equal(r.err.field, m.field, `${topic}/${reason} field`);
          seen.add(reason);
        }
      }
    }
  }
  assert.deepEqual([...seen].sort(), [...MALFORMED_REASONS].sort());
});

Deno.test("malform leaves the source event untouched", () => {
  const body = structuredClone(SAMPLES.ASSESSMENT[1]);
  malform("ASSESSMENT", body, "missing_field", new Rng(1), { now: NOW });
  assert.deepEqual(body, SAMPLES.ASSESSMENT[1]);
});

Deno.test("CDC cannot be given an invalid RFC 3339 timestamp", () => {
  assert.ok(!reasonsFor("CDC").includes("invalid_timestamp"));
  assert.throws(
    () => malform("CDC", SAMPLES.CDC[0], "invalid_timestamp", new Rng(1), { now: NOW }),
    RangeError,
  );
});
