/**
 * @module
 * Hono environment of the serving app: per-request variables set by the middleware.
 */
import type { RequestInfo } from "../graphql/context.ts";

/** Variables the middleware sets on each request. */
export interface ServingVariables {
  requestId: string;
  /** Filled by GraphQL plugins, logged by {@link requestLog}. */
  requestInfo: RequestInfo;
  /** Aborted when the request times out. */
  signal: AbortSignal;
}

export type ServingEnv = { Variables: ServingVariables };
