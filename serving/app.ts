/**
 * @module
 * The serving layer's HTTP app: Hono with request logging, CORS, bearer auth, a request time-out
 * and GraphQL Yoga at `/graphql`, plus `/health`, `/ready` and `/metrics`. Built from a merge
 * engine and resolved settings, so tests drive it in process with `app.request(...)`.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { ResolvedConfig } from "../shared/config.ts";
import type { Logger } from "../shared/log.ts";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "../shared/metrics.ts";
import type { MergeEngine } from "./merge/engine.ts";
import { createGraphQL, type GraphQLOptions, type ServingYoga } from "./graphql/yoga.ts";
import { bearerAuth } from "./http/auth.ts";
import { healthRoutes, type ReadinessProbe } from "./http/health.ts";
import { requestLog } from "./http/request_log.ts";
import { requestTimeout } from "./http/timeout.ts";
import type { ServingEnv } from "./http/types.ts";

/** The settings the app reads (a subset of {@link ResolvedConfig}). */
export type ServingAppConfig = Pick<
  ResolvedConfig,
  "mode" | "servingTokens" | "corsOrigins" | "requestTimeoutMs"
>;

/** Options of {@link createServingApp}. */
export interface ServingAppOptions {
  engine: MergeEngine;
  config: ServingAppConfig;
  logger: Logger;
  /** Checked by `/ready`; none by default (always ready). */
  probes?: readonly ReadinessProbe[];
  /** Served at `/metrics` and fed by the request log; none by default. */
  metrics?: Registry;
  /** Plugin switches and schema extensions passed to {@link createGraphQL}. */
  graphql?: Pick<GraphQLOptions, "limits" | "rangeBudget" | "graphiql" | "extensions">;
  /** More routes mounted at `/` after the built-in ones (e.g. the dashboard). */
  routes?: readonly Hono<ServingEnv>[];
}

/** Largest GraphQL request body in bytes (Yoga's default limit). */
export const MAX_REQUEST_BODY_BYTES = 25_000_000;

const CONTENT_LENGTH = /^\d+$/;

/**
 * The request body as bytes, read at most `max` bytes; "too large" beyond that. Read here so
 * Yoga parses a buffer instead of piping the stream through two more streams per request.
 */
async function readBody(
  raw: Request,
  max: number,
): Promise<Uint8Array<ArrayBuffer> | null | "too large"> {
  if (!raw.body) return null;
  const length = raw.headers.get("content-length");
  if (length !== null && CONTENT_LENGTH.test(length) && !raw.headers.has("transfer-encoding")) {
    if (Number(length) > max) return "too large";
    return new Uint8Array(await raw.arrayBuffer());
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of raw.body) {
    size += chunk.byteLength;
    if (size > max) return "too large";
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** The app and its Yoga instance. */
export interface ServingApp {
  app: Hono<ServingEnv>;
  yoga: ServingYoga;
}

/**
 * Builds the serving app.
 * @param options engine, settings, logger, probes and metrics
 */
export function createServingApp(options: ServingAppOptions): ServingApp {
  const { config, logger } = options;
  const yoga = createGraphQL({
    engine: options.engine,
    mode: config.mode,
    logger,
    ...options.graphql,
    maxRequestBodySize: false, // limited here, before Yoga (readBody)
  });
  const app = new Hono<ServingEnv>();

  app.use("*", requestLog({ logger, metrics: options.metrics }));
  if (config.corsOrigins.length > 0) {
    app.use(
      "*",
      cors({
        origin: config.corsOrigins.includes("*") ? "*" : [...config.corsOrigins],
        allowMethods: ["GET", "POST", "OPTIONS"],
        allowHeaders: ["authorization", "content-type", "accept", "x-request-id"],
        exposeHeaders: ["x-request-id"],
        maxAge: 600,
      }),
    );
  }
  app.route("/", healthRoutes({ probes: options.probes ?? [] }));
  if (options.metrics) {
    const metrics = options.metrics;
    app.get(
      "/metrics",
      (c) => c.body(metrics.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }),
    );
  }

  const endpoint = yoga.graphqlEndpoint;
  app.use(endpoint, requestTimeout(config.requestTimeoutMs));
  app.use(
    endpoint,
    bearerAuth({ tokens: config.servingTokens, required: config.mode === "production" }),
  );
  app.on(["GET", "POST", "OPTIONS"], endpoint, async (c) => {
    const signal = c.get("signal");
    // A new Request rather than `new Request(raw, …)`, which would read raw.signal and make
    // Deno.serve print a plain-text "legacy abort" warning into the JSON log stream.
    const raw = c.req.raw;
    const body = await readBody(raw, MAX_REQUEST_BODY_BYTES);
    if (body === "too large") {
      return c.json({
        errors: [{
          message: "Request body too large",
          extensions: { code: "REQUEST_ENTITY_TOO_LARGE" },
        }],
      }, 413);
    }
    const request = new Request(raw.url, {
      method: raw.method,
      headers: raw.headers,
      body,
      signal,
    });
    try {
      return await yoga.fetch(request, { requestInfo: c.get("requestInfo") });
    } catch (e) {
      // Timed out or client gone: the time-out middleware has answered already.
      if (signal.aborted) return new Response(null, { status: 499 });
      throw e;
    }
  });
  for (const r of options.routes ?? []) app.route("/", r);
  app.notFound((c) => c.json({ error: `Not found: ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    logger.error("unhandled error", { error: err, path: c.req.path });
    const dev = config.mode === "development";
    return c.json({
      errors: [{
        message: dev ? err.message : "Unexpected error.",
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      }],
    }, 500);
  });
  return { app, yoga };
}
