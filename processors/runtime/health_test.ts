import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Registry } from "../../shared/metrics.ts";
import { healthApp } from "./health.ts";
import type { HealthReport } from "./runtime.ts";
import { emptyStats, healthReport } from "./report.ts";

function report(status: "ok" | "degraded"): HealthReport {
  return {
    status,
    reasons: status === "ok" ? [] : ["write rows failing: connection refused"],
    consumerGroup: "g",
    clientId: "h:1",
    assignedPartitions: 1,
    jobs: { video_views: { partitions: ["video_topic/0"], lastCheckpointAt: null } },
    partitions: [],
    lastFlushAt: null,
    lastFlushMs: null,
    realtimeWatermark: null,
    cassandra: { state: status === "ok" ? "up" : "down", since: "2026-11-20T00:00:00.000Z" },
    kafka: { state: "connected", since: "2026-11-20T00:00:00.000Z" },
    pendingDeadLetters: 0,
    stats: emptyStats(),
    eventToViewMs: { count: 0, p50: null, p99: null, max: 0 },
  };
}

Deno.test("/health reports the outage with its reason and /ready fails meanwhile", async () => {
  let status: "ok" | "degraded" = "degraded";
  const app = healthApp({ health: () => report(status) }, new Registry());
  const h = await app.request("/health");
  assertEquals(h.status, 200);
  const body = await h.json();
  assertEquals([body.status, body.reasons, body.cassandra.state], [
    "degraded",
    ["write rows failing: connection refused"],
    "down",
  ]);
  assertEquals((await app.request("/ready")).status, 503);
  status = "ok";
  assertEquals((await app.request("/ready")).status, 200);
});

Deno.test("/metrics serves the registry in the Prometheus text format", async () => {
  const registry = new Registry();
  registry.counter("processor_events_in_total", "Records", ["topic"]).inc({ topic: "t" }, 3);
  const res = await healthApp({ health: () => report("ok") }, registry).request("/metrics");
  assertEquals(res.headers.get("content-type")?.startsWith("text/plain"), true);
  assertEquals((await res.text()).includes('processor_events_in_total{topic="t"} 3'), true);
});

Deno.test("POST /latency/reset restarts the latency figures", async () => {
  let resets = 0;
  const app = healthApp(
    { health: () => report("ok"), resetLatency: () => resets++ },
    new Registry(),
  );
  assertEquals((await app.request("/latency/reset", { method: "POST" })).status, 200);
  assertEquals(resets, 1);
  const none = healthApp({ health: () => report("ok") }, new Registry());
  assertEquals((await none.request("/latency/reset", { method: "POST" })).status, 404);
});

Deno.test("the health report is degraded while a reason stands and lists partitions per job", () => {
  const base = {
    now: 1,
    consumerGroup: "g",
    clientId: "c",
    assignedPartitions: 0,
    jobs: ["video_views" as const],
    workers: [],
    lastCheckpointAt: new Map([["video_views", Date.UTC(2026, 10, 20)]]),
    lastFlushAt: undefined,
    lastFlushMs: undefined,
    idlePartitionMs: 30_000,
    cassandra: { state: "down", since: "x", error: "refused" },
    kafka: { state: "connected", since: "x" },
    pendingDeadLetters: 0,
    stats: report("ok").stats,
    eventToViewMs: { count: 0, p50: null, p99: null, max: 0 },
  };
  const h = healthReport({ ...base, reasons: ["write rows failing: refused"] });
  assertEquals([h.status, h.jobs.video_views.lastCheckpointAt, h.realtimeWatermark], [
    "degraded",
    "2026-11-20T00:00:00.000Z",
    null,
  ]);
  assertEquals(healthReport({ ...base, reasons: [] }).status, "ok");
});
