import assert from "node:assert/strict";
import type { TopicKey } from "../shared/config.ts";
import { Reference, type ReferenceInput } from "./reference.ts";

const T0 = Date.parse("2026-11-20T12:00:00Z");
const MIN = 60_000;
const NOW = Date.parse("2026-11-22T00:00:00Z");
let ids = 0;

/** A valid record of `topic` for `user` on `partition`, event time `t`, arriving at `kafkaTs`. */
function rec(
  topic: TopicKey,
  user: string,
  t: number,
  fields: Record<string, unknown> = {},
  o: { partition?: number; kafkaTs?: number; eventId?: string } = {},
): ReferenceInput {
  const body = {
    event_id: o.eventId ?? `e${++ids}`,
    user_id: user,
    timestamp: new Date(t).toISOString(),
    ...fields,
  };
  return {
    topic,
    partition: o.partition ?? 0,
    key: user,
    value: JSON.stringify(body),
    kafkaTs: o.kafkaTs ?? t,
  };
}
const app = (user: string, t: number, o: Parameters<typeof rec>[4] = {}, type = "click") =>
  rec("APP_EVENTS", user, t, { event_type: type, app_type: "web", session_id: "s1" }, o);
const click = (user: string, t: number, page: string, session = "s1") =>
  rec("CLICKSTREAM", user, t, { session_id: session, page_url: page });

Deno.test("a copy within 1 h of the first counts once in both layers; beyond 1 h twice in realtime", () => {
  const records = [
    app("u1", T0, { eventId: "a" }),
    app("u1", T0, { eventId: "a", kafkaTs: T0 + 60 * MIN }), // exactly 1 h: still a duplicate
    app("u1", T0 + MIN, { eventId: "b" }),
    app("u1", T0 + MIN, { eventId: "b", kafkaTs: T0 + MIN + 60 * MIN + 1 }), // just over 1 h
  ];
  const ref = new Reference(records, { now: NOW, allowedLatenessMs: 24 * 60 * MIN });
  const range = { from: T0, to: T0 + 10 * MIN, granularity: "MINUTE" as const };
  assert.equal(ref.eventCounts(range, null, "batch").total, 2);
  assert.equal(ref.eventCounts(range, null, "realtime").total, 3);
  assert.equal(ref.sets.realtimeDeduplicated.APP_EVENTS, 1);
  assert.equal(ref.sets.batchDeduplicated.APP_EVENTS, 2);
});

Deno.test("batch keeps the first copy by (kafkaTs, partition, offset)", () => {
  const records = [
    app("u1", T0, { eventId: "x", partition: 2, kafkaTs: T0 + 5 * MIN }),
    app("u1", T0, { eventId: "x", partition: 1, kafkaTs: T0 + 5 * MIN }),
    app("u1", T0, { eventId: "x", partition: 3, kafkaTs: T0 + 2 * MIN }),
  ];
  const ref = new Reference(records, { now: NOW });
  assert.equal(ref.sets.batch.length, 1);
  assert.equal(ref.sets.batch[0].partition, 3);
});

Deno.test("late events are dropped per partition by the watermark rule, boundary included", () => {
  const records = [
    app("u1", T0, { partition: 0 }), // max 12:00 → wm 11:50
    app("u1", T0 - 20 * MIN, { partition: 0 }), // 11:40: 11:41 ≤ 11:50 → late
    app("u1", T0 - 10 * MIN - 30_000, { partition: 0 }), // 11:49:30: 11:50 ≤ 11:50 → late
    app("u1", T0 - 10 * MIN, { partition: 0 }), // 11:50:00: 11:51 > 11:50 → on time
    app("u2", T0 - 20 * MIN, { partition: 1 }), // another partition has no newer event → on time
    rec("VIDEO", "u1", T0 - 30 * MIN, { video_id: "v1", course_id: "c1", action: "play" }), // other topic
  ];
  const ref = new Reference(records, { now: NOW });
  assert.equal(ref.sets.late.length, 2);
  assert.deepEqual(ref.sets.late.map((l) => l.event.eventTime), [
    T0 - 20 * MIN,
    T0 - 10 * MIN - 30_000,
  ]);
  const range = { from: T0 - 60 * MIN, to: T0 + MIN, granularity: "HOUR" as const };
  assert.equal(ref.eventCounts(range, null, "realtime").total, 3);
  assert.equal(ref.eventCounts(range, null, "batch").total, 5);
  assert.deepEqual(ref.realtimeRows("late_events"), [
    { view: "event_aggregation", hour: T0 - 60 * MIN, topic: "APP_EVENTS", late: 2 },
    { view: "user_activity", hour: T0 - 60 * MIN, topic: "APP_EVENTS", late: 2 },
  ]);
});

Deno.test("a duplicate is deduplicated before the watermark check and never counts as late", () => {
  const records = [
    app("u1", T0, { eventId: "d" }),
    app("u1", T0 + 30 * MIN),
    app("u1", T0, { eventId: "d", kafkaTs: T0 + 31 * MIN }),
  ];
  const ref = new Reference(records, { now: NOW });
  assert.equal(ref.sets.late.length, 0);
  assert.equal(ref.sets.realtimeDeduplicated.APP_EVENTS, 1);
});

Deno.test("sessions split when clicks are more than 30 minutes apart", () => {
  const records = [
    click("u1", T0, "/a"),
    click("u1", T0 + 10 * MIN, "/b"),
    click("u1", T0 + 40 * MIN, "/a"), // gap exactly 30 min: same session
    click("u1", T0 + 71 * MIN, "/c"), // gap 31 min: new session
    click("u1", T0 + 72 * MIN, "/d", "s2"), // other session id
  ];
  const ref = new Reference(records, { now: NOW, allowedLatenessMs: 10 * MIN });
  const s = ref.sessions("u1", { from: T0, to: T0 + 2 * 60 * MIN }, null);
  assert.deepEqual(
    s.map((x) => [x.sessionId, x.start, x.clicks, x.uniquePages, x.durationSec, x.path]),
    [
      ["s1", T0, 3, 2, 2400, ["/a", "/b", "/a"]],
      ["s1", T0 + 71 * MIN, 1, 1, 0, ["/c"]],
      ["s2", T0 + 72 * MIN, 1, 1, 0, ["/d"]],
    ],
  );
  // Range selects by session start.
  assert.equal(ref.sessions("u1", { from: T0 + MIN, to: T0 + 72 * MIN }, null).length, 1);
});

Deno.test("a DAY bucket straddling batchThrough is MIXED: batch before, realtime after", () => {
  const B = T0; // 12:00
  const records = [
    app("u1", T0 - 3 * 60 * MIN), // 09:00, both layers
    app("u1", T0 + 60 * MIN), // 13:00, max → wm 12:50
    app("u1", T0 - 30 * MIN, { kafkaTs: T0 + 61 * MIN }), // 11:30 late: batch only, before B
    app("u1", T0 + 20 * MIN, { kafkaTs: T0 + 62 * MIN }), // 12:20 late: dropped by realtime, after B
  ];
  const ref = new Reference(records, { now: NOW });
  const day = Date.parse("2026-11-20T00:00:00Z");
  const d = ref.eventCounts({ from: day, to: day + 24 * 60 * MIN, granularity: "DAY" }, B);
  assert.deepEqual(d.points, [{ start: day, end: day + 24 * 60 * MIN, source: "MIXED", count: 3 }]);
  const h = ref.eventCounts(
    { from: T0 - 3 * 60 * MIN, to: T0 + 2 * 60 * MIN, granularity: "HOUR" },
    B,
  );
  assert.deepEqual(h.points.map((p) => [p.source, p.count]), [
    ["BATCH", 1],
    ["BATCH", 0],
    ["BATCH", 1],
    ["REALTIME", 0],
    ["REALTIME", 1],
  ]);
  assert.equal(h.total, 3);
  // MINUTE answers from realtime alone.
  const m = ref.eventCounts({ from: T0 - 30 * MIN, to: T0 - 29 * MIN, granularity: "MINUTE" }, B);
  assert.deepEqual(m.points.map((p) => [p.source, p.count]), [["REALTIME", 0]]);
});

Deno.test("distinct users are unions across layers, not sums", () => {
  const B = T0;
  const v = (user: string, t: number) =>
    rec("VIDEO", user, t, { video_id: "v1", course_id: "c1", action: "play" });
  const ref = new Reference([v("u1", T0 - MIN), v("u2", T0 - MIN), v("u1", T0 + MIN)], {
    now: NOW,
  });
  const day = Date.parse("2026-11-20T00:00:00Z");
  const r = ref.videoViews(
    { videoId: "v1", from: day, to: day + 86_400_000, granularity: "DAY" },
    B,
  );
  assert.equal(r.total.plays, 3);
  assert.equal(r.total.uniqueViewers, 2);
  assert.equal(r.total.source, "MIXED");
  const c = ref.courseEngagement({ courseId: "c1", from: day, to: day + 86_400_000 }, B);
  assert.equal(c.total.activeUsers, 2);
  assert.equal(c.points.filter((p) => p.activeUsers > 0).length, 2);
});

Deno.test("percentiles use rank floor(q·(n−1)) of the merged percents", () => {
  const B = T0;
  const records = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((score, i) =>
    rec("ASSESSMENT", `u${i}`, T0 + (i % 2 ? -MIN : MIN) * (i + 1), {
      assessment_id: "a1",
      course_id: "c1",
      action: "graded",
      score: score / 2,
      max_score: 50,
    }, { partition: i })
  );
  const ref = new Reference(records, { now: NOW });
  const r = ref.assessmentScores({ assessmentId: "a1", from: T0 - 60 * MIN, to: T0 + 60 * MIN }, B);
  assert.equal(r.total.graded, 10);
  assert.equal(r.total.p50Percent, 50); // rank floor(0.5·9) = 4
  assert.equal(r.total.p95Percent, 90); // rank floor(0.95·9) = 8
  assert.equal(r.total.minPercent, 10);
  assert.equal(r.total.maxPercent, 100);
  assert.equal(r.total.avgPercent, 55);
  assert.deepEqual(r.points.map((p) => p.source), ["BATCH", "REALTIME"]);
});

Deno.test("invalid records are counted per topic and reason and listed for the DLQ in offset order", () => {
  const records: ReferenceInput[] = [
    { topic: "AUTH", partition: 1, key: "u1", value: "{oops", kafkaTs: T0 },
    app("u1", T0, { partition: 1 }),
    { topic: "AUTH", partition: 1, key: "u1", value: "[1]", kafkaTs: T0 },
    rec("AUTH", "u1", NOW + 6 * MIN, { action: "login" }, { partition: 1 }),
    { topic: "CDC", partition: 0, key: '{"id":"u1"}', value: null, kafkaTs: T0 }, // tombstone: valid
  ];
  const ref = new Reference(records, { now: NOW });
  assert.deepEqual(ref.rejectedCounts().AUTH, {
    invalid_json: 1,
    not_object: 1,
    future_timestamp: 1,
  });
  assert.deepEqual(ref.dlq("AUTH").map((r) => [r.offset, r.reason]), [
    [0, "invalid_json"],
    [1, "not_object"],
    [2, "future_timestamp"],
  ]);
  assert.equal(ref.sets.valid.CDC, 1);
});

Deno.test("user activity counts every topic but CDC and reports lastSeen", () => {
  const records = [
    rec("AUTH", "u1", T0, { action: "login", device: "web" }),
    rec("VIDEO", "u1", T0 + MIN, { video_id: "v1", course_id: "c1", action: "play" }),
    app("u1", T0 + 2 * MIN),
    rec("PROFILE", "u1", T0 + 3 * MIN, { changes: { bio: "x" } }),
    {
      topic: "CDC" as const,
      partition: 0,
      key: "u1",
      kafkaTs: T0 + 4 * MIN,
      value: JSON.stringify({
        before: null,
        after: { id: "u1" },
        op: "c",
        source: { table: "users", ts_ms: T0 + 4 * MIN },
        ts_ms: T0 + 4 * MIN,
      }),
    },
  ];
  const ref = new Reference(records, { now: NOW });
  const a = ref.userActivity({ userId: "u1", from: T0, to: T0 + 60 * MIN }, null);
  assert.equal(a.total.events, 4);
  assert.equal(a.total.logins, 1);
  assert.equal(a.total.videoEvents, 1);
  assert.equal(a.total.appEvents, 1);
  assert.equal(a.total.profileEvents, 1);
  assert.equal(a.lastSeen, T0 + 3 * MIN);
  const rows = ref.realtimeRows("realtime_user_activity");
  assert.equal(rows.length, 4);
  assert.deepEqual(rows[0], {
    user_id: "u1",
    minute: T0,
    events: 1,
    logins: 1,
    video_events: 0,
    assessment_events: 0,
    app_events: 0,
    course_events: 0,
    notification_events: 0,
    profile_events: 0,
    last_seen: T0,
  });
  const sliding = ref.realtimeRows("user_activity_windows");
  assert.deepEqual(sliding.find((r) => r.window_end === T0 + 5 * MIN)?.events, 4);
  assert.deepEqual(sliding.find((r) => r.window_end === T0 + 6 * MIN)?.events, 3);
});

Deno.test("daily summary and user segment follow the README formula", () => {
  const day = Date.parse("2026-11-20T00:00:00Z");
  const records = [
    rec("AUTH", "u1", day + MIN, { action: "login", device: "web" }),
    rec("AUTH", "u1", day + 2 * MIN, { action: "login", device: "mobile" }),
    click("u1", day + 3 * MIN, "/a"),
    click("u1", day + 13 * MIN, "/b"),
    click("u1", day + 60 * MIN, "/a"),
    app("u1", day + 4 * MIN, {}, "purchase"),
    rec("VIDEO", "u1", day + 5 * MIN, { video_id: "v1", course_id: "c1", action: "complete" }),
    rec("COURSE", "u1", day + 6 * MIN, { course_id: "c2", action: "completed" }),
    rec("COURSE", "u1", day + 7 * MIN, { course_id: "c2", action: "enrolled" }),
    rec("ASSESSMENT", "u1", day - 86_400_000, {
      assessment_id: "a1",
      course_id: "c3",
      action: "graded",
      score: 1,
      max_score: 2,
    }),
  ];
  const ref = new Reference(records, { now: NOW, allowedLatenessMs: 7 * 86_400_000 });
  const d = ref.dailySummary("2026-11-20");
  assert.deepEqual(d, {
    date: "2026-11-20",
    totalEvents: 9,
    activeUsers: 1,
    sessions: 2,
    avgSessionDurationSec: 300,
    p95SessionDurationSec: 0, // rank floor(0.95·1) = 0 of [0, 600]
    eventsByType: [{ key: "purchase", count: 1 }],
    logins: 2,
    enrollments: 1,
    completions: 1,
  });
  // 2 logins·2 + 3 clicks·0.2 + 1 app·0.5 + 1 video complete·5 + 1 course completed·10 = 20.1
  const s1 = ref.userSegment("u1", "2026-11-20", { lookbackDays: 1 })!;
  assert.equal(s1.engagementScore, 20.1);
  assert.equal(s1.segment, "REGULAR");
  assert.equal(s1.sessionFrequency, "HIGH"); // 2 sessions / 1 day
  assert.equal(s1.contentInterest, "SELECTED"); // c1, c2
  assert.equal(s1.devicePreference, "MULTI_DEVICE");
  // Two days back also counts the graded assessment of the 19th: +5, and course c3.
  const s2 = ref.userSegment("u1", "2026-11-20", { lookbackDays: 2 })!;
  assert.equal(s2.engagementScore, 25.1);
  assert.equal(s2.sessionFrequency, "MEDIUM"); // 2 sessions / 2 days = 1 per day
  assert.equal(s2.counts.distinctCourses, 3);
  assert.equal(ref.userSegment("u2", "2026-11-20"), null);
});
