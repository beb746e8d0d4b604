import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createSchema, createYoga } from "graphql-yoga";
import { createResolvers } from "../graphql/resolvers.ts";
import { typeDefs } from "../graphql/schema.ts";
import { createExtResolvers, extTypeDefs, MemoryExtStore } from "./mod.ts";

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const MIN = 60_000;

function yogaWith(store: MemoryExtStore) {
  return createYoga({
    schema: createSchema({
      typeDefs: [typeDefs, extTypeDefs],
      resolvers: [createResolvers(), createExtResolvers(store, { now: () => NOW })],
    }),
    maskedErrors: false,
    logging: false,
  });
}

async function gql(store: MemoryExtStore, query: string, variables: Record<string, unknown> = {}) {
  const res = await yogaWith(store).fetch("http://localhost/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  return await res.json();
}

Deno.test("user(id) answers profile, device, country and risk flags; null for a stranger", async () => {
  const store = new MemoryExtStore();
  store.users.set("u1", {
    userId: "u1",
    fields: { plan: "premium", display_name: "Anna", id: "u1" },
    deleted: false,
    hasCdc: true,
    sourcePosition: "lsn:20",
    sourceTs: NOW - MIN,
    device: "mobile",
    country: "BR",
    lastAuthAt: NOW - 2 * MIN,
    riskFlags: ["failed_login_burst"],
    riskAt: NOW - 30_000,
    engagementScore: 12.5,
  });
  const r = await gql(
    store,
    `query($id: ID!) { user(id: $id) { id known deleted profile { key value } plan: field(key: "plan")
      nope: field(key: "nope") sourcePosition profileChangedAt device country lastAuthAt riskFlags
      riskAt engagementScore } stranger: user(id: "zz") { id } }`,
    { id: "u1" },
  );
  assertEquals(r.errors, undefined);
  assertEquals(r.data.user, {
    id: "u1",
    known: true,
    deleted: false,
    profile: [
      { key: "display_name", value: "Anna" },
      { key: "id", value: "u1" },
      { key: "plan", value: "premium" },
    ],
    plan: "premium",
    nope: null,
    sourcePosition: "lsn:20",
    profileChangedAt: "2026-11-21T11:59:00.000Z",
    device: "mobile",
    country: "BR",
    lastAuthAt: "2026-11-21T11:58:00.000Z",
    riskFlags: ["failed_login_burst"],
    riskAt: "2026-11-21T11:59:30.000Z",
    engagementScore: 12.5,
  });
  assertEquals(r.data.stranger, null);
});

Deno.test("cdcSummary sums partitions per kind and minute over [from, to)", async () => {
  const store = new MemoryExtStore();
  const m0 = NOW - 10 * MIN;
  const row = (minute: number, kpart: number, i: number, u: number, d = 0) => ({
    minute,
    kpart,
    inserts: i,
    updates: u,
    deletes: d,
    snapshots: 0,
    truncates: 0,
  });
  store.minutes.set("users", [
    row(m0, 0, 1, 2),
    row(m0, 3, 4, 0, 1),
    row(m0 + MIN, 1, 0, 5),
    row(m0 + 2 * MIN, 0, 9, 9), // outside [from, to)
  ]);
  const r = await gql(
    store,
    `{ cdcSummary(table: "users", from: "${new Date(m0 + 5000).toISOString()}",
        to: "${new Date(m0 + 2 * MIN).toISOString()}") {
      table from to inserts updates deletes snapshots truncates total
      operations { operation count } points { start inserts updates deletes } complete gaps { start }
    } }`,
  );
  assertEquals(r.errors, undefined);
  const s = r.data.cdcSummary;
  assertEquals(s.from, new Date(m0).toISOString(), "from rounds down to the minute");
  assertEquals([s.inserts, s.updates, s.deletes, s.snapshots, s.truncates, s.total], [
    5,
    7,
    1,
    0,
    0,
    13,
  ]);
  assertEquals(s.operations, [
    { operation: "INSERT", count: 5 },
    { operation: "UPDATE", count: 7 },
    { operation: "DELETE", count: 1 },
    { operation: "SNAPSHOT", count: 0 },
    { operation: "TRUNCATE", count: 0 },
  ]);
  assertEquals(s.points, [
    { start: new Date(m0).toISOString(), inserts: 5, updates: 2, deletes: 1 },
    { start: new Date(m0 + MIN).toISOString(), inserts: 0, updates: 5, deletes: 0 },
  ]);
  assertEquals([s.complete, s.gaps], [true, []]);
});

Deno.test("cdcSummary reports what lies beyond the realtime retention or in the future as gaps", async () => {
  const r = await gql(
    new MemoryExtStore(),
    `{ cdcSummary(table: "users", from: "2026-11-17T00:00:00Z", to: "2026-11-22T00:00:00Z") {
      total complete gaps { start end } } }`,
  );
  assertEquals(r.data.cdcSummary, {
    total: 0,
    complete: false,
    gaps: [
      { start: "2026-11-17T00:00:00.000Z", end: "2026-11-18T12:00:00.000Z" },
      { start: "2026-11-21T12:00:00.000Z", end: "2026-11-22T00:00:00.000Z" },
    ],
  });
});

Deno.test("bad arguments are BAD_USER_INPUT errors naming the argument", async () => {
  const store = new MemoryExtStore();
  const cases: [string, string][] = [
    [
      `{ cdcSummary(table: "users", from: "2026-11-21T00:00:00Z", to: "2026-11-20T00:00:00Z") { total } }`,
      '"to"',
    ],
    [
      `{ cdcSummary(table: "users", from: "2025-01-01T00:00:00Z", to: "2026-11-20T00:00:00Z") { total } }`,
      '"to"',
    ],
    [
      `{ cdcSummary(table: "", from: "2026-11-20T00:00:00Z", to: "2026-11-21T00:00:00Z") { total } }`,
      '"table"',
    ],
    [`{ user(id: "") { id } }`, '"id"'],
  ];
  for (const [q, arg] of cases) {
    const r = await gql(store, q);
    assertEquals(r.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", q);
    assertEquals(r.errors[0].message.includes(arg), true, r.errors[0].message);
  }
});
