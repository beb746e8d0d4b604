/**
 * @module
 * `requestLog(options)`: one JSON log line per request (method, path, status, duration, request
 * id, GraphQL operation) and request metrics; sets `requestId` and `requestInfo`.
 */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../../shared/log.ts";
import type { Registry } from "../../shared/metrics.ts";
import type { ServingEnv } from "./types.ts";

/** Options of {@link requestLog}. */
export interface RequestLogOptions {
  logger: Logger;
  /** Where to count requests and latencies; none by default. */
  metrics?: Registry;
  /** Clock in ms; default `performance.now`. */
  now?: () => number;
}

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The middleware; mount it first so it times and logs everything. */
export function requestLog(options: RequestLogOptions): MiddlewareHandler<ServingEnv> {
  const now = options.now ?? (() => performance.now());
  const requests = options.metrics?.counter(
    "serving_requests_total",
    "HTTP requests by route and status.",
    ["route", "status"],
  );
  const latency = options.metrics?.histogram(
    "serving_request_duration_seconds",
    "HTTP request latency.",
    undefined,
    ["route"],
  );
  return async function logRequest(c, next) {
    const started = now();
    const given = c.req.header("x-request-id");
    const requestId = given && ID_RE.test(given) ? given : crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("requestInfo", {});
    c.header("x-request-id", requestId);
    let thrown: unknown;
    try {
      await next();
    } catch (e) {
      thrown = e;
      throw e;
    } finally {
      const durationMs = Math.round((now() - started) * 100) / 100;
      const status = thrown ? 500 : c.res.status;
      const info = c.get("requestInfo");
      const route = c.req.routePath || c.req.path;
      requests?.inc({ route, status });
      latency?.observe({ route }, durationMs / 1000);
      const fields = {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status,
        durationMs,
        operationName: info.operationName,
        operationType: info.operationType,
        graphqlErrors: info.errors,
        error: thrown,
      };
      if (status >= 500) options.logger.error("request", fields);
      else options.logger.info("request", fields);
    }
  };
}
