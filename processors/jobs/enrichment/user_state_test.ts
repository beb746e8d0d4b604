import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { parseEvent, type ValidEvent } from "../../../shared/events.ts";
import type { TopicKey } from "../../../shared/config.ts";
import { resolveRiskOptions, UserState } from "./user_state.ts";

const T = Date.UTC(2026, 10, 20, 8, 0, 0);
const MIN = 60_000;
const o = resolveRiskOptions();
let n = 0;

function ev(topic: TopicKey, t: number, fields: Record<string, unknown>): ValidEvent {
  const r = parseEvent(
    topic,
    JSON.stringify({ event_id: `e${n++}`, user_id: "u1", timestamp: t, ...fields }),
    { now: T + 86_400_000 },
  );
  if (!r.ok) throw new Error(r.err.detail);
  return r.ok;
}

const failed = (t: number) => ev("AUTH", t, { action: "login_failed" });
const login = (t: number, country?: string, device?: string) =>
  ev("AUTH", t, {
    action: "login",
    ...(country ? { country } : {}),
    ...(device ? { device } : {}),
  });

Deno.test("five failed logins within 10 minutes flag a burst, from the fifth on", () => {
  const s = new UserState();
  for (let i = 0; i < 4; i++) assertEquals(s.add(failed(T + i * MIN), o).riskFlags, []);
  assertEquals(s.add(failed(T + 9 * MIN), o).riskFlags, ["failed_login_burst"]);
  // Events of the user while the window still holds five failures carry the flag too.
  assertEquals(s.add(login(T + 9 * MIN + 1), o).riskFlags, ["failed_login_burst"]);
  // Ten minutes after the first failure it has left the window.
  assertEquals(s.add(login(T + 10 * MIN), o).riskFlags, []);
});

Deno.test("failures spread over more than 10 minutes are no burst", () => {
  const s = new UserState();
  for (let i = 0; i < 8; i++) assertEquals(s.add(failed(T + i * 3 * MIN), o).riskFlags, []);
});

Deno.test("a different country within an hour is impossible travel; later than an hour it is not", () => {
  const s = new UserState();
  assertEquals(s.add(login(T, "DE"), o).riskFlags, []);
  assertEquals(s.add(login(T + 61 * MIN, "FR"), o).riskFlags, []);
  const f = s.add(login(T + 100 * MIN, "BR"), o);
  assertEquals(f.riskFlags, ["impossible_travel"]);
  assertEquals(f.country, "BR");
  // The flag stays on the user's events for an hour after the detection.
  assertEquals(
    s.add(ev("VIDEO", T + 130 * MIN, { video_id: "v", course_id: "c", action: "play" }), o)
      .riskFlags,
    ["impossible_travel"],
  );
  assertEquals(s.add(login(T + 161 * MIN, "BR"), o).riskFlags, []);
});

Deno.test("an out-of-order auth event is judged by event time and does not replace a newer country", () => {
  const s = new UserState();
  s.add(login(T + 30 * MIN, "DE", "web"), o);
  const f = s.add(login(T, "US", "mobile"), o);
  assertEquals([f.country, f.device], ["DE", "web"]);
  assertEquals(f.riskFlags, []); // judged at its own time: the DE login is later
  assertEquals(s.figuresAt(T + 31 * MIN, o).riskFlags, ["impossible_travel"]);
});

Deno.test("more than N events of the user in one minute flag unusual volume", () => {
  const small = resolveRiskOptions({ maxEventsPerMinute: 3 });
  const s = new UserState();
  const click = (t: number) => ev("CLICKSTREAM", t, { session_id: "s", page_url: "/p" });
  const flags = [0, 1, 2, 3, 4].map((i) => s.add(click(T + i * 1000), small).riskFlags);
  assertEquals(flags, [[], [], [], ["high_event_volume"], ["high_event_volume"]]);
  assertEquals(s.add(click(T + MIN), small).riskFlags, [], "a new minute starts afresh");
});

Deno.test("the engagement score sums the weights of the last hour", () => {
  const s = new UserState();
  s.add(login(T), o); // 1
  s.add(ev("VIDEO", T + MIN, { video_id: "v", course_id: "c", action: "complete" }), o); // 5
  s.add(
    ev("ASSESSMENT", T + 2 * MIN, {
      assessment_id: "a",
      course_id: "c",
      action: "graded",
      score: 5,
      max_score: 10,
    }),
    o,
  ); // 6
  assertEquals(s.figuresAt(T + 2 * MIN, o).engagementScore, 12);
  const later = s.add(
    ev("COURSE", T + 60 * MIN + 30_000, { course_id: "c", action: "completed" }),
    o,
  );
  assertEquals(later.engagementScore, 5 + 6 + 10, "the login left the hour");
});

Deno.test("device and country come from the latest auth event and can be seeded from storage", () => {
  const s = new UserState();
  s.seed("tablet", "JP", T - MIN);
  assertEquals(s.figuresAt(T, o).device, "tablet");
  s.add(login(T, undefined, "mobile"), o);
  const f = s.figuresAt(T, o);
  assertEquals([f.device, f.country], ["mobile", "JP"]);
  s.seed("web", "US", T - 2 * MIN); // older than what is known: ignored
  assertEquals(s.figuresAt(T, o).device, "mobile");
});

Deno.test("risk thresholds are validated", () => {
  assertThrows(() => resolveRiskOptions({ maxEventsPerMinute: 0 }), /maxEventsPerMinute/);
  assertThrows(() => resolveRiskOptions({ failedLogins: 2.5 }), /failedLogins/);
});
