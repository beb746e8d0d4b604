/**
 * @module
 * The dashboard's HTTP routes, mounted by the serving layer at `/`: the page (`GET /`), its
 * script and style, uPlot from the pinned npm package (served from the local `node_modules`, so
 * the page works without internet) and `GET /api/dashboard` ({@link DashboardStatus}).
 */
import "uplot"; // keeps the pinned package in the module graph, so Deno installs it with the app
import { Hono } from "hono";
import type { ResolvedConfig } from "../../shared/config.ts";
import type { Logger } from "../../shared/log.ts";
import { bearerAuth } from "../http/auth.ts";
import type { ServingEnv } from "../http/types.ts";
import {
  createDashboardData,
  type DashboardData,
  type DashboardDataConfig,
  type DashboardDataOptions,
} from "./status.ts";

/** The settings the dashboard reads. */
export type DashboardConfig =
  & DashboardDataConfig
  & Pick<ResolvedConfig, "mode" | "servingTokens">;

/** Options of {@link createDashboard}. */
export interface DashboardOptions extends DashboardDataOptions {
  /** Path of the GraphQL endpoint the page asks; default `/graphql`. */
  graphqlEndpoint?: string;
  /** Logger for failures of `/api/dashboard`; default none. */
  logger?: Logger;
  /** A data source to use instead of one built from the configuration (tests). */
  data?: DashboardData;
}

/** The routes and the clean-up of the clients behind `/api/dashboard`. */
export interface Dashboard {
  routes: Hono<ServingEnv>;
  close(): Promise<void>;
}

const STATIC = new URL("./static/", import.meta.url);
const UPLOT_DIST = new URL("./", import.meta.resolve("uplot"));

const ASSETS: Record<string, { url: URL; type: string }> = {
  "/dashboard/app.js": { url: new URL("app.js", STATIC), type: "text/javascript; charset=utf-8" },
  "/dashboard/style.css": { url: new URL("style.css", STATIC), type: "text/css; charset=utf-8" },
  "/dashboard/vendor/uPlot.iife.min.js": {
    url: new URL("uPlot.iife.min.js", UPLOT_DIST),
    type: "text/javascript; charset=utf-8",
  },
  "/dashboard/vendor/uPlot.min.css": {
    url: new URL("uPlot.min.css", UPLOT_DIST),
    type: "text/css; charset=utf-8",
  },
};

/**
 * Creates the dashboard routes. `/api/dashboard` asks for the same bearer token as `/graphql`.
 * @param cfg brokers, topics, Cassandra, outputs directory, mode and serving tokens
 * @param options endpoint path, logger, clients and windows
 * @example
 * ```ts ignore
 * app.route("/", createDashboard(cfg, { logger }).routes);
 * ```
 */
export function createDashboard(cfg: DashboardConfig, options: DashboardOptions = {}): Dashboard {
  const endpoint = options.graphqlEndpoint ?? "/graphql";
  const data = options.data ?? createDashboardData(cfg, options);
  const cache = new Map<string, Promise<string>>();
  const read = (url: URL) => {
    let text = cache.get(url.href);
    if (!text) {
      cache.set(url.href, text = Deno.readTextFile(url));
      text.catch(() => cache.delete(url.href));
    }
    return text;
  };
  const routes = new Hono<ServingEnv>();
  routes.get("/", async (c) => {
    const html = (await read(new URL("index.html", STATIC)))
      .replace(/\{\{\s*graphqlEndpoint\s*\}\}/g, endpoint.replace(/[^A-Za-z0-9/_.-]/g, ""));
    return c.html(html, 200, { "cache-control": "no-cache" });
  });
  for (const [path, asset] of Object.entries(ASSETS)) {
    routes.get(path, async (c) =>
      c.body(await read(asset.url), 200, {
        "content-type": asset.type,
        "cache-control": "no-cache",
      }));
  }
  routes.use(
    "/api/dashboard",
    bearerAuth({ tokens: cfg.servingTokens, required: cfg.mode === "production" }),
  );
  routes.get("/api/dashboard", async (c) => {
    const status = await data.status();
    for (const [part, value] of Object.entries(status)) {
      if (value && typeof value === "object" && "error" in value) {
        options.logger?.warn("dashboard part unavailable", { part, error: value.error });
      }
    }
    return c.json(status, 200, { "cache-control": "no-store" });
  });
  return { routes, close: () => data.close() };
}
