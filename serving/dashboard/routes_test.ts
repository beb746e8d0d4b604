import assert from "node:assert/strict";
import { resolveConfig } from "../../shared/config.ts";
import { createDashboard } from "./routes.ts";
import type { DashboardData, DashboardStatus } from "./status.ts";

const STATUS: DashboardStatus = {
  generatedAt: "2026-11-21T10:00:00.000Z",
  lateSince: "2026-11-20T11:00:00.000Z",
  dlq: {
    ok: { total: 3, topics: [{ topic: "auth_topic", dlqTopic: "auth_topic.dlq", count: 3 }] },
  },
  late: { error: "Cassandra unavailable" },
  entities: { ok: { courses: ["c001"], assessments: ["c001-a1"] } },
};

function memoryData(): DashboardData & { closed: boolean } {
  return {
    closed: false,
    status: () => Promise.resolve(STATUS),
    close() {
      this.closed = true;
      return Promise.resolve();
    },
  };
}

function dashboard(env: Record<string, string> = {}, endpoint?: string) {
  const data = memoryData();
  const cfg = resolveConfig(env);
  return { data, ...createDashboard(cfg, { data, graphqlEndpoint: endpoint }) };
}

Deno.test("GET / is the page, pointing at the GraphQL endpoint", async () => {
  const { routes } = dashboard({}, "/api/graphql");
  const res = await routes.request("/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/html/);
  const html = await res.text();
  assert.match(html, /<title>Education platform: live dashboard<\/title>/);
  assert.match(html, /<meta name="graphql-endpoint" content="\/api\/graphql">/);
  assert.doesNotMatch(html, /\{\{/);
  assert.doesNotMatch(html, /https?:\/\//, "the page must not load anything from outside");
});

Deno.test("the script, the style and uPlot from node_modules are served", async () => {
  const { routes } = dashboard();
  for (
    const [path, type, text] of [
      ["/dashboard/app.js", /javascript/, /__dashboard/],
      ["/dashboard/style.css", /css/, /\.cards/],
      ["/dashboard/vendor/uPlot.iife.min.js", /javascript/, /uPlot/],
      ["/dashboard/vendor/uPlot.min.css", /css/, /\.uplot/],
    ] as const
  ) {
    const res = await routes.request(path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get("content-type") ?? "", type, path);
    assert.match(await res.text(), text, path);
  }
});

Deno.test("GET /api/dashboard answers the data, failed parts included", async () => {
  const { routes } = dashboard();
  const res = await routes.request("/api/dashboard");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), STATUS);
});

Deno.test("/api/dashboard asks for the serving token in production; close() closes the data", async () => {
  const { routes, close, data } = dashboard({
    APP_ENV: "production",
    SERVING_TOKENS: "s3cret-token-value-1234",
  });
  assert.equal((await routes.request("/api/dashboard")).status, 401);
  const ok = await routes.request("/api/dashboard", {
    headers: { authorization: "Bearer s3cret-token-value-1234" },
  });
  assert.equal(ok.status, 200);
  await close();
  assert.equal(data.closed, true);
});
