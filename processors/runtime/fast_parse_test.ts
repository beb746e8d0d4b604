import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { TOPIC_KEYS, type TopicKey } from "../../shared/config.ts";
import { parseEvent, parseEventTime } from "../../shared/events.ts";
import { generate } from "../../generator/generate.ts";
import { eventTimeOf, parseRecord } from "./fast_parse.ts";

const enc = new TextEncoder();
const NOW = Date.UTC(2026, 10, 20, 12);

function same(topic: TopicKey, value: Uint8Array | null, kafkaTs: number, label: string) {
  const want = parseEvent(topic, value, { now: NOW, kafkaTimestamp: kafkaTs });
  const got = parseRecord(topic, value, NOW, kafkaTs);
  if (want.ok) {
    assertEquals(got.err, undefined, `${label}: fast path rejected a valid event`);
    assertEquals(got.ok!.topic, want.ok.topic, label);
    assertEquals(got.ok!.eventTime, want.ok.eventTime, label);
    assertEquals({ ...got.ok!.data }, { ...want.ok.data }, label);
  } else {
    assertEquals(got.err, want.err, `${label}: rejections differ`);
  }
}

/** Mutations of one field: what users send wrong. */
const MUTATIONS: ((v: unknown) => unknown)[] = [
  () => undefined,
  () => null,
  () => "",
  () => "x".repeat(129),
  () => 0,
  () => -1,
  () => 1e999,
  () => 101,
  () => 0.5,
  () => true,
  () => [],
  () => ({}),
  () => "graded",
  () => "heartbeat",
  () => "login",
  () => "2026-11-20T11:00:00Z",
  () => "2026-02-30T11:00:00Z",
  () => "2026-11-20 11:00:00+01:00",
  () => NOW + 10 * 60_000,
  () => NOW,
  (v) => (typeof v === "number" ? v * 1000 : v),
  (v) => (typeof v === "string" ? v.toUpperCase() : v),
];

Deno.test("the fast parser decides every generated record exactly like parseEvent", () => {
  let n = 0;
  for (
    const r of generate({
      seed: 11,
      startMs: NOW - 3_600_000,
      endMs: NOW,
      now: NOW,
      totalEvents: 20_000,
      malformedShare: 0.05,
      tooLarge: false,
    })
  ) {
    same(r.topic, r.value === null ? null : enc.encode(r.value), r.kafkaTs, `${r.kind} ${r.value}`);
    n++;
  }
  assertEquals(n > 10_000, true);
});

Deno.test("the fast parser agrees with parseEvent on every single-field mutation", () => {
  const samples = new Map<TopicKey, Record<string, unknown>>();
  for (
    const r of generate({
      seed: 3,
      startMs: NOW - 3_600_000,
      endMs: NOW,
      now: NOW,
      totalEvents: 5_000,
      malformedShare: 0,
    })
  ) {
    if (r.value && r.kind === "valid" && !samples.has(r.topic)) {
      samples.set(r.topic, JSON.parse(r.value));
    }
  }
  // Fields every topic may carry, so mutations also add fields that were absent.
  const extra = [
    "score",
    "max_score",
    "watched_sec",
    "progress_pct",
    "referrer",
    "properties",
    "changes",
    "device",
    "__proto__",
  ];
  let cases = 0;
  for (const topic of TOPIC_KEYS) {
    const base = samples.get(topic);
    if (!base) continue;
    for (const field of new Set([...Object.keys(base), ...extra])) {
      for (const m of MUTATIONS) {
        const ev = { ...base };
        const v = m(ev[field]);
        if (v === undefined) delete ev[field];
        else ev[field] = v;
        const text = field === "__proto__"
          ? JSON.stringify(ev).replace(/^\{/, `{"__proto__":${JSON.stringify(v ?? null)},`)
          : JSON.stringify(ev);
        same(topic, enc.encode(text), NOW, `${topic}.${field} -> ${text}`);
        cases++;
      }
    }
  }
  assertEquals(cases > 500, true);
});

Deno.test("the fast parser hands non-JSON, non-objects and bad UTF-8 to parseEvent", () => {
  for (const v of ["{", "[]", "null", "42", '"s"', ""]) same("VIDEO", enc.encode(v), NOW, v);
  same("VIDEO", new Uint8Array([0x7b, 0xff, 0x7d]), NOW, "bad utf-8");
  same("AUTH", null, NOW, "tombstone");
  same("CDC", null, NOW, "cdc tombstone");
});

Deno.test("the fast event-time parser agrees with parseEventTime", () => {
  const base = [
    "2026-11-20T05:04:03Z",
    "2026-11-20t05:04:03z",
    "2026-11-20 05:04:03+01:30",
    "2026-11-20T05:04:03.1Z",
    "2026-11-20T05:04:03.12345Z",
    "2026-11-20T05:04:03.999999999-11:59",
    "2026-11-20T05:04:03.1234567890Z",
    "2024-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2100-02-29T00:00:00Z",
    "2000-02-29T23:59:59Z",
    "0099-01-01T00:00:00Z",
    "0100-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999Z",
    "2026-11-20T24:00:00Z",
    "2026-11-20T23:60:00Z",
    "2026-11-20T23:00:60Z",
    "2026-13-20T23:00:00Z",
    "2026-11-31T23:00:00Z",
    "2026-11-20T05:04:03+24:00",
    "2026-11-20T05:04:03+05:60",
    "2026-11-20T05:04:03+0500",
    "2026-11-20T05:04:03.Z",
    "2026-11-20T05:04:03",
    "2026-11-20T05:04:03ZZ",
    "2026-1l-20T05:04:03Z",
    " 2026-11-20T05:04:03Z",
    "",
  ];
  const cases: unknown[] = [...base, 0, -1, 1.5, 1e20, NOW, null, true];
  for (const s of base) {
    for (let i = 0; i < s.length; i++) {
      cases.push(s.slice(0, i) + s.slice(i + 1));
      cases.push(s.slice(0, i) + "9" + s.slice(i + 1));
    }
  }
  for (const c of cases) {
    assertEquals(eventTimeOf(c), parseEventTime(c), JSON.stringify(c));
  }
});
