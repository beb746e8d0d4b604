/**
 * @module
 * `bearerAuth(options)`: `Authorization: Bearer <token>` checked against the configured tokens in
 * constant time. Required when `required` (production); otherwise a missing header is let through
 * but a wrong token is still refused. The GraphiQL page itself (an HTML GET without a query) is
 * static and always served; the queries it sends carry the token.
 */
import type { MiddlewareHandler } from "hono";
import type { ServingEnv } from "./types.ts";

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions {
  tokens: readonly string[];
  /** Refuse requests without a token; true in production. */
  required: boolean;
}

const encoder = new TextEncoder();

/** Constant-time comparison of two strings' UTF-8 bytes (time depends on length only). */
export function safeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a), y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function isGraphiQLPage(req: Request): boolean {
  const url = new URL(req.url);
  return req.method === "GET" && !url.searchParams.has("query") &&
    (req.headers.get("accept") ?? "").includes("text/html");
}

/** The middleware. */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler<ServingEnv> {
  const tokens = [...options.tokens];
  if (options.required && tokens.length === 0) {
    throw new RangeError("bearerAuth: 'tokens' must not be empty when a token is required");
  }
  return async function checkBearer(c, next) {
    if (c.req.method === "OPTIONS" || isGraphiQLPage(c.req.raw)) return await next();
    const header = c.req.header("authorization");
    if (header === undefined && !options.required) return await next();
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    let ok = false;
    if (m) { for (const t of tokens) ok = safeEqual(m[1], t) || ok; }
    if (ok) return await next();
    const message = header === undefined
      ? "Authentication required: send Authorization: Bearer <token>"
      : "Invalid bearer token";
    c.header(
      "www-authenticate",
      `Bearer realm="graphql"${header ? ', error="invalid_token"' : ""}`,
    );
    return c.json({ errors: [{ message, extensions: { code: "UNAUTHENTICATED" } }] }, 401);
  };
}
