/**
 * The serving layer's HTTP and GraphQL surface, in process (app.request, no port): the schema is
 * CONTRACTS.md §4 exactly, every query answers, GET and GraphiQL work, the GraphQL-over-HTTP
 * audits pass, and auth, CORS, masking, time-out, health, readiness and request logs behave.
 */
import assert from "node:assert/strict";
import {
  buildSchema,
  findBreakingChanges,
  findDangerousChanges,
  getIntrospectionQuery,
  type GraphQLSchema,
} from "graphql";
import { serverAudits } from "graphql-http";
import { FIXTURE_B, FIXTURE_NOW, fixtureStores, memoryApp } from "../serving/testing/memory_app.ts";
import { gql, viaApp } from "../serving/testing/client.ts";
import { createLogger } from "../shared/log.ts";
import { HOUR_MS, MINUTE_MS } from "../shared/time.ts";
import type { BatchStore } from "../serving/merge/types.ts";
import { contractSdl } from "./_contracts.ts";

const iso = (t: number) => new Date(t).toISOString();
const RANGE = `from: "${iso(FIXTURE_B - 2 * HOUR_MS)}", to: "${iso(FIXTURE_B + 2 * HOUR_MS)}"`;

/** The additions to §4 documented in README.md "GraphQL additions" (besides serving/ext). */
const ADDITIONS = [
  "ActivityWindow was removed.",
  "Query.recentActivity was removed.",
  "RecentActivity was removed.",
];

Deno.test("the served schema is CONTRACTS.md §4: same types, fields, arguments and defaults", async () => {
  const { yoga } = memoryApp();
  const served = yoga.getEnveloped().schema as GraphQLSchema;
  const contract = buildSchema(await contractSdl());
  assert.deepEqual(findBreakingChanges(contract, served), []);
  assert.deepEqual(findDangerousChanges(contract, served), []);
  // Going back from the served schema to the contract removes exactly the documented additions.
  assert.deepEqual(
    findBreakingChanges(served, contract).map((c) => c.description).sort(),
    ADDITIONS,
  );
  assert.deepEqual(findDangerousChanges(served, contract), []);
});

Deno.test("recentActivity sums the realtime minute rows into 5-minute windows sliding every minute", async () => {
  const request = viaApp(memoryApp().app);
  // The fixture's realtime activity of u1 is one minute row at B + 1 min with 5 events.
  const at = iso(FIXTURE_B + 4 * MINUTE_MS + 30_000);
  const r = await gql(
    request,
    `{ recentActivity(userId: "u1", at: "${at}") { userId windowMinutes
        windows { start end events logins videoEvents assessmentEvents appEvents }
        provenance { complete } }
      w2: recentActivity(userId: "u1", lastMinutes: 3, windowMinutes: 2, at: "${at}") {
        windows { end events } } }`,
  );
  assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
  const a = r.body.data.recentActivity;
  assert.equal(a.userId, "u1");
  assert.equal(a.windowMinutes, 5);
  assert.equal(a.windows.length, 15);
  const lastEnd = FIXTURE_B + 5 * MINUTE_MS;
  assert.deepEqual(a.windows.at(-1), {
    start: iso(lastEnd - 5 * MINUTE_MS),
    end: iso(lastEnd),
    events: 5,
    logins: 1,
    videoEvents: 1,
    assessmentEvents: 1,
    appEvents: 2,
  });
  // The minute row [B + 1, B + 2) is in the windows ending B + 2 .. B + 5 (and B + 6, not asked).
  assert.deepEqual(
    a.windows.map((w: { end: string; events: number }) => [
      (Date.parse(w.end) - FIXTURE_B) / MINUTE_MS,
      w.events,
    ]).filter((x: number[]) => x[1] > 0),
    [[2, 5], [3, 5], [4, 5], [5, 5]],
  );
  assert.deepEqual(r.body.data.w2.windows, [
    { end: iso(FIXTURE_B + 3 * MINUTE_MS), events: 5 },
    { end: iso(FIXTURE_B + 4 * MINUTE_MS), events: 0 },
    { end: iso(FIXTURE_B + 5 * MINUTE_MS), events: 0 },
  ]);
});

Deno.test("recentActivity refuses out-of-range arguments by name", async () => {
  const request = viaApp(memoryApp().app);
  for (
    const [args, name] of [
      ["lastMinutes: 0", "lastMinutes"],
      ["lastMinutes: 1441", "lastMinutes"],
      ["windowMinutes: 61", "windowMinutes"],
      ['userId: ""', "userId"],
    ]
  ) {
    const call = args.startsWith("userId") ? args : `userId: "u1", ${args}`;
    const r = await gql(request, `{ recentActivity(${call}) { windowMinutes } }`);
    assert.equal(r.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(r.body));
    assert.match(r.body.errors[0].message, new RegExp(`Argument "${name}"`));
  }
});

Deno.test("every query of §4 answers with merged figures and provenance", async () => {
  const request = viaApp(memoryApp().app);
  const r = await gql(
    request,
    `{
    eventCounts(${RANGE}) { total points { start end source count } provenance { batchThrough realtimeWatermark freshnessMs complete gaps { start end } } }
    courseEngagement(courseId: "c1", ${RANGE}, granularity: DAY) { courseId total { source enrollments unenrollments completions activeUsers } }
    videoViews(videoId: "v1", ${RANGE}) { videoId total { plays completes watchSeconds uniqueViewers } }
    assessmentScores(assessmentId: "a1", ${RANGE}) { total { graded avgPercent minPercent maxPercent p50Percent p95Percent } }
    userActivity(userId: "u1", ${RANGE}) { lastSeen total { events logins videoEvents assessmentEvents appEvents } }
    sessions(userId: "u1", ${RANGE}) { sessionId userId start end durationSec clicks uniquePages path }
    dailySummary(date: "2026-11-19") { date totalEvents eventsByType { key count } }
    missing: dailySummary(date: "2026-11-20") { date }
    userSegment(userId: "u1") { date segment engagementScore sessionFrequency contentInterest devicePreference }
    servingStatus { batchThrough realtimeWatermark lag { topic partition lag } }
  }`,
  );
  assert.equal(r.status, 200);
  assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
  const d = r.body.data;
  assert.equal(d.eventCounts.total, 10);
  assert.deepEqual(
    d.eventCounts.points.map((p: { source: string; count: number }) => [p.source, p.count]),
    [
      ["BATCH", 0],
      ["BATCH", 4],
      ["REALTIME", 6],
      ["REALTIME", 0],
    ],
  );
  assert.deepEqual(d.eventCounts.provenance, {
    batchThrough: iso(FIXTURE_B),
    realtimeWatermark: iso(FIXTURE_NOW - 600_000),
    freshnessMs: 60_000,
    complete: true,
    gaps: [],
  });
  assert.deepEqual(d.courseEngagement.total, {
    source: "MIXED",
    enrollments: 4,
    unenrollments: 2,
    completions: 2,
    activeUsers: 2,
  });
  assert.deepEqual(d.videoViews.total, {
    plays: 6,
    completes: 2,
    watchSeconds: 85,
    uniqueViewers: 2,
  });
  assert.equal(d.assessmentScores.total.graded, 4);
  assert.equal(d.assessmentScores.total.avgPercent, 75);
  assert.equal(d.assessmentScores.total.minPercent, 50);
  assert.equal(d.userActivity.total.events, 10);
  assert.equal(d.userActivity.lastSeen, iso(FIXTURE_B + 60_000 + 30_000));
  assert.deepEqual(d.sessions.map((s: { sessionId: string }) => s.sessionId), ["s1"]);
  assert.equal(r.body.extensions.provenance.sessions.complete, true);
  assert.deepEqual(d.dailySummary, {
    date: "2026-11-19",
    totalEvents: 10,
    eventsByType: [{ key: "click", count: 4 }],
  });
  assert.equal(d.missing, null);
  assert.equal(d.userSegment.segment, "ACTIVE");
  assert.equal(d.userSegment.date, "2026-11-19");
  assert.deepEqual(d.servingStatus.lag, [{ topic: "topic_app_events", partition: 0, lag: 3 }]);
});

Deno.test("GET queries work and a browser gets GraphiQL", async () => {
  const { app } = memoryApp();
  const q = encodeURIComponent(`{ servingStatus { batchThrough } }`);
  const r = await app.request(`/graphql?query=${q}`, { headers: { accept: "application/json" } });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).data.servingStatus.batchThrough, iso(FIXTURE_B));
  const page = await app.request("/graphql", { headers: { accept: "text/html" } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /graphiql/i);
});

Deno.test("GraphiQL's introspection query passes the limits", async () => {
  const r = await gql(
    viaApp(memoryApp({ mode: "production", tokens: ["t"] }).app),
    getIntrospectionQuery(),
    {},
    {
      authorization: "Bearer t",
    },
  );
  assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
  assert.ok(r.body.data.__schema.types.length > 20);
});

Deno.test("the GraphQL over HTTP server audits (graphql-http) all pass", async () => {
  const { app } = memoryApp({ mode: "production", tokens: ["secret"] });
  const fetchFn = (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    req.headers.set("authorization", "Bearer secret");
    return Promise.resolve(app.fetch(req));
  };
  const failed: string[] = [];
  let count = 0;
  for (const audit of serverAudits({ url: "http://localhost/graphql", fetchFn })) {
    count++;
    const result = await audit.fn();
    if (result.status !== "ok") failed.push(`${audit.id} ${audit.name}: ${result.status}`);
  }
  assert.deepEqual(failed, []);
  assert.ok(count >= 50, `only ${count} audits`);
});

Deno.test("production requires a valid bearer token; development accepts none but not a wrong one", async () => {
  const prod = viaApp(memoryApp({ mode: "production", tokens: ["alpha", "beta"] }).app);
  const q = `{ servingStatus { batchThrough } }`;
  const none = await gql(prod, q);
  assert.equal(none.status, 401);
  assert.equal(none.body.errors[0].extensions.code, "UNAUTHENTICATED");
  const wrong = await gql(prod, q, {}, { authorization: "Bearer gamma" });
  assert.equal(wrong.status, 401);
  const malformed = await gql(prod, q, {}, { authorization: "Basic YWxwaGE=" });
  assert.equal(malformed.status, 401);
  const ok = await gql(prod, q, {}, { authorization: "Bearer beta" });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.data.servingStatus.batchThrough, iso(FIXTURE_B));
  const health = await memoryApp({ mode: "production", tokens: ["alpha"] }).app.request("/health");
  assert.equal(health.status, 200, "probes need no token");

  const dev = viaApp(memoryApp({ mode: "development", tokens: ["alpha"] }).app);
  assert.equal((await gql(dev, q)).status, 200);
  assert.equal((await gql(dev, q, {}, { authorization: "Bearer nope" })).status, 401);
});

Deno.test("CORS allows the configured origins only", async () => {
  const { app } = memoryApp({ corsOrigins: ["https://app.example"] });
  const pre = await app.request("/graphql", {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });
  assert.equal(pre.headers.get("access-control-allow-origin"), "https://app.example");
  assert.match(pre.headers.get("access-control-allow-headers") ?? "", /authorization/);
  const other = await app.request("/health", { headers: { origin: "https://evil.example" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
  const none = await memoryApp({ corsOrigins: [] }).app.request("/health", {
    headers: { origin: "https://app.example" },
  });
  assert.equal(none.headers.get("access-control-allow-origin"), null);
});

function failingBatch(message: string): BatchStore {
  return { snapshot: () => Promise.reject(new Error(message)) };
}

Deno.test("unexpected errors are masked outside development", async () => {
  const q = `{ eventCounts(${RANGE}) { total } }`;
  for (const mode of ["production", "test"] as const) {
    const r = await gql(
      viaApp(
        memoryApp({ mode, tokens: ["t"], batch: failingBatch("disk on fire at /secret/path") }).app,
      ),
      q,
      {},
      { authorization: "Bearer t" },
    );
    assert.equal(r.body.errors[0].message, "Unexpected error.");
    assert.equal(r.body.errors[0].extensions.code, "INTERNAL_SERVER_ERROR");
    assert.ok(!JSON.stringify(r.body).includes("secret"));
  }
  const dev = await gql(
    viaApp(memoryApp({ mode: "development", batch: failingBatch("disk on fire") }).app),
    q,
  );
  assert.match(dev.body.errors[0].message, /disk on fire/);
});

Deno.test("a request over REQUEST_TIMEOUT_MS gets 504 and the server keeps serving", async () => {
  let release!: () => void;
  const stuck: BatchStore = {
    snapshot: () =>
      new Promise((resolve) => release = () => resolve(fixtureStores().batch.snapshot())),
  };
  const { app } = memoryApp({ requestTimeoutMs: 100, batch: stuck });
  const r = await gql(viaApp(app), `{ eventCounts(${RANGE}) { total } }`);
  assert.equal(r.status, 504);
  assert.equal(r.body.errors[0].extensions.code, "TIMEOUT");
  release();
  const health = await app.request("/health");
  assert.equal(health.status, 200);
});

Deno.test("/health is up; /ready is 503 with the failing probe's reason, 200 when all pass", async () => {
  let cassandraUp = false;
  const { app } = memoryApp({
    probes: [
      {
        name: "cassandra",
        check: () =>
          cassandraUp ? Promise.resolve() : Promise.reject(new Error("connection refused")),
      },
      { name: "batchManifest", check: () => Promise.resolve() },
    ],
  });
  assert.deepEqual(await (await app.request("/health")).json(), { status: "ok" });
  const down = await app.request("/ready");
  assert.equal(down.status, 503);
  const body = await down.json();
  assert.equal(body.reason, "cassandra: connection refused");
  assert.deepEqual(body.checks.batchManifest, { ok: true });
  cassandraUp = true;
  assert.equal((await app.request("/ready")).status, 200);
});

Deno.test("each request writes one JSON log line with status, duration and operation", async () => {
  const lines: string[] = [];
  const logger = createLogger({ name: "serving", level: "info", write: (l) => lines.push(l) });
  const { app } = memoryApp({ logger });
  await gql(viaApp(app), `query Status { servingStatus { batchThrough } }`, {}, {
    "x-request-id": "req-42",
  });
  await app.request("/nope");
  const logs = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
  assert.equal(logs.length, 2);
  assert.equal(logs[0].requestId, "req-42");
  assert.equal(logs[0].status, 200);
  assert.equal(logs[0].operationName, "Status");
  assert.equal(typeof logs[0].durationMs, "number");
  assert.equal(logs[1].status, 404);
});
