/**
 * @module
 * The processors' HTTP endpoints on `HEALTH_PORT`: `GET /health` (JSON: `status` ok|degraded with
 * the reasons, per job its partitions and last checkpoint, per partition offsets, lag and
 * watermark, Cassandra and Kafka state; always 200 while the process runs), `GET /ready` (200 when
 * ok, 503 when degraded), `GET /metrics` (Prometheus text) and `POST /latency/reset` (restarts the
 * event-to-view latency figures of /health, e.g. after a benchmark's warm-up).
 */
import { Hono } from "hono";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "../../shared/metrics.ts";
import type { HealthReport } from "./runtime.ts";

/** What the endpoints read. */
export interface HealthSource {
  health(): HealthReport;
  /** Forgets the event-to-view latencies recorded so far (benchmarks, after a warm-up). */
  resetLatency?(): void;
}

/** The Hono app of /health, /ready and /metrics. */
export function healthApp(source: HealthSource, registry: Registry): Hono {
  const app = new Hono();
  app.get("/health", function health(c) {
    return c.json(source.health());
  });
  app.get("/ready", function ready(c) {
    const h = source.health();
    return c.json({ status: h.status, reasons: h.reasons }, h.status === "ok" ? 200 : 503);
  });
  app.post("/latency/reset", function resetLatency(c) {
    if (!source.resetLatency) return c.json({ error: "not supported" }, 404);
    source.resetLatency();
    return c.json({ reset: true });
  });
  app.get("/metrics", function metrics(c) {
    return c.body(registry.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}
