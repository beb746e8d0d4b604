/**
 * @module
 * `requestTimeout(ms)`: a request that is not answered within `ms` gets a 504 GraphQL-shaped
 * error, and its `signal` is aborted so the work behind it (GraphQL execution) stops.
 */
import type { MiddlewareHandler } from "hono";
import type { ServingEnv } from "./types.ts";

/** The middleware. */
export function requestTimeout(ms: number): MiddlewareHandler<ServingEnv> {
  if (!(ms > 0)) throw new RangeError(`requestTimeout: 'ms' must be > 0, got ${ms}`);
  return async function timeRequest(c, next) {
    const controller = new AbortController();
    // Not combined with the request's own signal: reading it makes Deno.serve warn (legacy abort).
    c.set("signal", controller.signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), ms);
    });
    try {
      const outcome = await Promise.race([next().then(() => "done" as const), expired]);
      if (outcome === "timeout") {
        controller.abort(new DOMException(`request exceeded ${ms} ms`, "TimeoutError"));
        c.res = c.json({
          errors: [{
            message: `Request timed out after ${ms} ms`,
            extensions: { code: "TIMEOUT" },
          }],
        }, 504);
      }
    } finally {
      clearTimeout(timer);
    }
  };
}
