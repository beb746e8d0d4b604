/**
 * @module
 * In-process GraphQL client for tests: POSTs to a Hono app with `app.request` (no port), and
 * builds the series queries of §4 with variables.
 */
import type { Hono } from "hono";
import type { Json, SeriesQuery } from "./compare.ts";
import { pointSelection } from "./compare.ts";

/** Something that answers fetch-style requests: a Hono app or a URL-bound fetch. */
export type RequestFn = (path: string, init: RequestInit) => Promise<Response>;

/** A request function over a Hono app. */
// deno-lint-ignore no-explicit-any
export function viaApp(app: Hono<any>): RequestFn {
  return (path, init) => Promise.resolve(app.request(path, init));
}

/** A request function over a running server. */
export function viaUrl(base: string): RequestFn {
  return (path, init) => fetch(new URL(path, base), init);
}

/** A GraphQL response: HTTP status and the JSON body. */
export interface GqlResponse {
  status: number;
  body: Json;
}

/** POSTs a query. */
export async function gql(
  request: RequestFn,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GqlResponse> {
  const res = await request("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body };
}

const ENTITY_ARG: Record<SeriesQuery, string | null> = {
  eventCounts: null,
  courseEngagement: "courseId",
  videoViews: "videoId",
  assessmentScores: "assessmentId",
  userActivity: "userId",
};

/** A series query over variables `$from`, `$to`, `$g` and the entity or filters. */
export function seriesQuery(q: SeriesQuery): string {
  const entity = ENTITY_ARG[q];
  const varDefs = entity
    ? `$id: ID!, $from: DateTime!, $to: DateTime!, $g: Granularity`
    : `$from: DateTime!, $to: DateTime!, $g: Granularity, $eventType: String, $appType: String, $userId: ID`;
  const args = entity
    ? `${entity}: $id, from: $from, to: $to, granularity: $g`
    : `from: $from, to: $to, granularity: $g, eventType: $eventType, appType: $appType, userId: $userId`;
  const total = q === "eventCounts" ? "total" : `total { ${pointSelection(q)} }`;
  const extra = q === "userActivity" ? "lastSeen" : "";
  return `query Series(${varDefs}) { ${q}(${args}) { ${total} ${extra} points { ${
    pointSelection(q)
  } } provenance { batchThrough realtimeWatermark freshnessMs complete gaps { start end } } } }`;
}
