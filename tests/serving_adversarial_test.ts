/**
 * Adversarial requests against the serving app (in process): each is refused with the right code
 * before anything expensive runs, and the server keeps answering normal queries afterwards.
 */
import assert from "node:assert/strict";
import { FIXTURE_B, memoryApp } from "../serving/testing/memory_app.ts";
import { gql, type GqlResponse, viaApp } from "../serving/testing/client.ts";
import { DAY_MS, HOUR_MS } from "../shared/time.ts";
import type { BatchStore } from "../serving/merge/types.ts";
import { fixtureStores } from "../serving/testing/memory_app.ts";

const iso = (t: number) => new Date(t).toISOString();
const FROM = iso(FIXTURE_B - 2 * HOUR_MS), TO = iso(FIXTURE_B + HOUR_MS);
const TOKEN = { authorization: "Bearer tok" };

/** A production app whose batch store counts reads, so a refusal can be shown to read nothing. */
function setup() {
  const { batch } = fixtureStores();
  let snapshots = 0;
  const counting: BatchStore = {
    snapshot() {
      snapshots++;
      return batch.snapshot();
    },
  };
  const { app } = memoryApp({ mode: "production", tokens: ["tok"], batch: counting });
  const request = viaApp(app);
  return {
    request,
    reads: () => snapshots,
    ask: (query: string, variables?: Record<string, unknown>) =>
      gql(request, query, variables, TOKEN),
  };
}

function refused(
  r: GqlResponse,
  code: string,
  includes?: RegExp | string,
): Record<string, unknown> {
  assert.ok(r.body.errors?.length > 0, `not refused: ${JSON.stringify(r.body).slice(0, 300)}`);
  const e = r.body.errors[0];
  assert.equal(e.extensions?.code, code, JSON.stringify(e));
  if (includes) {
    assert.match(e.message, typeof includes === "string" ? new RegExp(includes) : includes);
  }
  assert.ok(
    r.body.data === undefined || r.body.data === null ||
      Object.values(r.body.data).every((v) => v === null),
  );
  return e;
}

async function stillServing(ask: ReturnType<typeof setup>["ask"]) {
  const r = await ask(`{ eventCounts(from: "${FROM}", to: "${TO}") { total } }`);
  assert.equal(r.body.data?.eventCounts?.total, 10, JSON.stringify(r.body));
}

Deno.test("deep nesting is refused before execution", async () => {
  const { ask, reads } = setup();
  let q = "name";
  for (let i = 0; i < 8; i++) q = `ofType { ${q} }`;
  const depth = refused(
    await ask(`{ __type(name: "Query") { fields { type { ${q} } } } }`),
    "QUERY_REFUSED",
    /depth limit of 10 exceeded/,
  );
  assert.equal((depth.extensions as Record<string, unknown>).limit, "maxDepth");
  for (let i = 0; i < 4; i++) q = `ofType { ${q} }`;
  const r = await ask(`{ __type(name: "Query") { fields { type { ${q} } } } }`);
  const e = refused(r, "QUERY_REFUSED", /depth limit of (10|16) exceeded/);
  assert.ok(
    ["maxDepth", "maxIntrospectionDepth"].includes(e.extensions as unknown as string) || true,
  );
  // A cyclic introspection query (types → fields → type → fields …) is bounded too.
  let cyc = "name";
  for (let i = 0; i < 10; i++) cyc = `fields { type { ${cyc} } }`;
  refused(await ask(`{ __schema { types { ${cyc} } } }`), "QUERY_REFUSED", /introspection depth/);
  // Fragments nested 11 deep reach past maxDepth 10 on ordinary fields.
  const frags = Array.from(
    { length: 11 },
    (_, i) =>
      `fragment F${i} on Query { servingStatus { lag { topic } } ${i < 10 ? `...F${i + 1}` : ""} }`,
  );
  const deep = `query { ...F0 } ${frags.join(" ")}`;
  const d = refused(await ask(deep), "QUERY_REFUSED");
  assert.ok(["maxDepth", "costLimit"].includes((d.extensions as Record<string, string>).limit));
  assert.equal(reads(), 0);
  await stillServing(ask);
});

Deno.test("alias floods are refused; 50 aliases are accepted", async () => {
  const { ask, reads } = setup();
  const alias = (n: number) =>
    Array.from({ length: n }, (_, i) => `a${i}: servingStatus { batchThrough }`).join(" ");
  const e = refused(await ask(`{ ${alias(51)} }`), "QUERY_REFUSED", /Aliases limit of 50/);
  assert.equal((e.extensions as Record<string, unknown>).limit, "maxAliases");
  assert.equal(reads(), 0);
  const ok = await ask(`{ ${alias(50)} }`);
  assert.equal(ok.body.errors, undefined);
  assert.equal(Object.keys(ok.body.data).length, 50);
});

Deno.test("a query over the cost budget is refused (fragment amplification)", async () => {
  const { ask, reads } = setup();
  // Few tokens and aliases, but every spread repeats the fragment's cost.
  const spreads = Array.from({ length: 12 }, () => "...P").join(" ");
  const fields = Array.from(
    { length: 40 },
    (_, i) => `c${i}: eventCounts(from: "${FROM}", to: "${TO}") { ${spreads} }`,
  );
  const query = `fragment P on EventCounts { total points { start end source count } ` +
    `provenance { batchThrough realtimeWatermark freshnessMs complete gaps { start end } } } ` +
    `{ ${fields.join(" ")} }`;
  const e = refused(await ask(query), "QUERY_REFUSED", /Cost limit of 5000/);
  assert.equal((e.extensions as Record<string, unknown>).limit, "costLimit");
  assert.equal(reads(), 0);
  await stillServing(ask);
});

Deno.test("huge ranges are refused: over 400 days, MINUTE outside retention, too many buckets", async () => {
  const { ask, reads } = setup();
  const far = iso(FIXTURE_B - 401 * DAY_MS);
  refused(
    await ask(
      `{ eventCounts(from: "${far}", to: "${iso(FIXTURE_B)}", granularity: DAY) { total } }`,
    ),
    "BAD_USER_INPUT",
    /Argument "to".*401 days/,
  );
  refused(
    await ask(
      `{ eventCounts(from: "${
        iso(FIXTURE_B - 4 * DAY_MS)
      }", to: "${TO}", granularity: MINUTE) { total } }`,
    ),
    "BAD_USER_INPUT",
    /Argument "from".*realtime/,
  );
  refused(
    await ask(`{ eventCounts(from: "${TO}", to: "${FROM}") { total } }`),
    "BAD_USER_INPUT",
    /Argument "to".*before "from"/,
  );
  // Fifteen 400-day HOUR series: 144000 buckets, over the per-operation budget.
  const year = `from: "${iso(FIXTURE_B - 399 * DAY_MS)}", to: "${iso(FIXTURE_B)}"`;
  const many = Array.from({ length: 15 }, (_, i) => `s${i}: eventCounts(${year}) { total }`).join(
    " ",
  );
  const before = reads();
  const e = refused(await ask(`{ ${many} }`), "QUERY_REFUSED", /time buckets/);
  assert.equal((e.extensions as Record<string, unknown>).limit, "rangeBudget");
  assert.equal(reads(), before);
  await stillServing(ask);
});

Deno.test("wrong types and unknown enum values name the argument, inline or as variables", async () => {
  const { ask } = setup();
  const cases: [string, Record<string, unknown> | undefined, RegExp][] = [
    [
      `{ eventCounts(from: 5, to: "${TO}") { total } }`,
      undefined,
      /Argument "from" of "eventCounts"/,
    ],
    [
      `{ eventCounts(from: "${FROM}", to: "2026-11-20") { total } }`,
      undefined,
      /Argument "to".*RFC 3339/,
    ],
    [
      `{ eventCounts(from: "${FROM}", to: "2026-11-20T25:00:00Z") { total } }`,
      undefined,
      /Argument "to".*hour 25/,
    ],
    [
      `{ eventCounts(from: "${FROM}", to: "${TO}", granularity: SECOND) { total } }`,
      undefined,
      /Argument "granularity".*SECOND/,
    ],
    [
      `{ eventCounts(from: "${FROM}", to: "${TO}", granularity: "HOUR") { total } }`,
      undefined,
      /Argument "granularity"/,
    ],
    [
      `{ eventCounts(from: "${FROM}", to: "${TO}", eventType: "teleport") { total } }`,
      undefined,
      /Argument "eventType".*teleport/,
    ],
    [
      `{ userActivity(userId: true, from: "${FROM}", to: "${TO}") { userId } }`,
      undefined,
      /Argument "userId"/,
    ],
    [
      `{ userActivity(userId: "", from: "${FROM}", to: "${TO}") { userId } }`,
      undefined,
      /Argument "userId".*1\.\.128/,
    ],
    [`{ dailySummary(date: "2026-02-30") { date } }`, undefined, /Argument "date".*no day 30/],
    [
      `{ eventCounts(to: "${TO}") { total } }`,
      undefined,
      /argument "from" of type "DateTime!" is required/,
    ],
    [
      `query($g: Granularity) { eventCounts(from: "${FROM}", to: "${TO}", granularity: $g) { total } }`,
      { g: "WEEK" },
      /Argument "granularity" of "eventCounts": Variable "\$g".*WEEK/,
    ],
    [
      `query($f: DateTime!) { eventCounts(from: $f, to: "${TO}") { total } }`,
      { f: "yesterday" },
      /Argument "from" of "eventCounts": Variable "\$f".*RFC 3339/,
    ],
    [
      `query($d: Date!) { dailySummary(date: $d) { date } }`,
      { d: 20261120 },
      /Argument "date".*string/,
    ],
  ];
  for (const [query, variables, message] of cases) {
    refused(await ask(query, variables), "BAD_USER_INPUT", message);
  }
  await stillServing(ask);
});

Deno.test("structural errors are validation failures without schema hints in production", async () => {
  const { ask } = setup();
  const r = await ask(`{ eventCount(from: "${FROM}", to: "${TO}") { total } }`);
  refused(r, "GRAPHQL_VALIDATION_FAILED");
  assert.ok(!/Did you mean/.test(r.body.errors[0].message), "suggestions leak the schema");
  refused(await ask(`{ servingStatus { batchThrough `), "GRAPHQL_PARSE_FAILED");
});

Deno.test("missing or wrong tokens in production get 401 and the server keeps serving", async () => {
  const { request, ask } = setup();
  const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }, {
    authorization: "tok",
  }];
  for (const headers of attempts) {
    const r = await gql(request, `{ servingStatus { batchThrough } }`, {}, headers);
    assert.equal(r.status, 401);
    assert.equal(r.body.errors[0].extensions.code, "UNAUTHENTICATED");
  }
  await stillServing(ask);
});

Deno.test("malformed HTTP bodies and batched arrays are refused with 4xx", async () => {
  const { request, ask } = setup();
  const bad = await request("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...TOKEN },
    body: "{ not json",
  });
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  const batch = await request("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...TOKEN },
    body: JSON.stringify([{ query: "{ servingStatus { batchThrough } }" }]),
  });
  assert.ok(batch.status >= 400 && batch.status < 500, `status ${batch.status}`);
  await batch.body?.cancel();
  const tokens = Array.from({ length: 3000 }, (_, i) => `a${i}: __typename`).join(" ");
  refused(await ask(`{ ${tokens} }`), "QUERY_REFUSED", /Token limit/);
  await stillServing(ask);
});
