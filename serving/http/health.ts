/**
 * @module
 * `/health` (the process is up) and `/ready` (every readiness probe passes; 503 with each failing
 * probe's reason otherwise). Probes run concurrently, each bounded by a time-out.
 */
import { Hono } from "hono";
import type { ServingEnv } from "./types.ts";

/** A dependency the server needs before it can answer. */
export interface ReadinessProbe {
  name: string;
  /** Resolves when ready; rejects with the reason otherwise. */
  check(): Promise<void>;
}

/** Options of {@link healthRoutes}. */
export interface HealthOptions {
  probes: readonly ReadinessProbe[];
  /** Time allowed to each probe; default 2000 ms. */
  probeTimeoutMs?: number;
}

async function run(probe: ReadinessProbe, ms: number): Promise<{ ok: boolean; reason?: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

/** Routes `/health` and `/ready`. */
export function healthRoutes(options: HealthOptions): Hono<ServingEnv> {
  const ms = options.probeTimeoutMs ?? 2000;
  const app = new Hono<ServingEnv>();
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", async (c) => {
    const results = await Promise.all(options.probes.map((p) => run(p, ms)));
    const checks: Record<string, { ok: boolean; reason?: string }> = {};
    options.probes.forEach((p, i) => checks[p.name] = results[i]);
    const failing = options.probes.filter((_, i) => !results[i].ok);
    if (failing.length === 0) return c.json({ status: "ready", checks });
    const reason = failing.map((p) => `${p.name}: ${checks[p.name].reason}`).join("; ");
    return c.json({ status: "not ready", reason, checks }, 503);
  });
  return app;
}
