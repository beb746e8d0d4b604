/**
 * @module
 * A serving app over in-memory stores with a little data (two days published, realtime after),
 * for in-process HTTP tests: auth, CORS, limits, errors, audits.
 */
import type { AppMode } from "../../shared/config.ts";
import { createLogger, type Logger } from "../../shared/log.ts";
import { DistinctSketch, QuantileSketch } from "../../shared/sketch/mod.ts";
import { HOUR_MS, MINUTE_MS } from "../../shared/time.ts";
import { createServingApp, type ServingApp, type ServingAppOptions } from "../app.ts";
import { createMergeEngine } from "../merge/engine.ts";
import { MemoryBatchStore, MemoryRealtimeStore } from "../merge/memory.ts";
import type { BatchStore, RealtimeStore } from "../merge/types.ts";

/** The fixed clock of the fixture: 2026-11-20T12:00:00Z. */
export const FIXTURE_NOW = Date.UTC(2026, 10, 20, 12);
/** batchThrough of the fixture: 2026-11-20T10:00:00Z. */
export const FIXTURE_B = Date.UTC(2026, 10, 20, 10);

/** Options of {@link memoryApp}. */
export interface MemoryAppOptions {
  mode?: AppMode;
  tokens?: string[];
  corsOrigins?: string[];
  requestTimeoutMs?: number;
  batch?: BatchStore;
  realtime?: RealtimeStore;
  logger?: Logger;
  probes?: ServingAppOptions["probes"];
}

/** Batch and realtime stores with data for course c1, video v1, assessment a1 and user u1. */
export function fixtureStores(): { batch: MemoryBatchStore; realtime: MemoryRealtimeStore } {
  const batch = new MemoryBatchStore().publish(FIXTURE_B - 34 * HOUR_MS, FIXTURE_B);
  const realtime = new MemoryRealtimeStore();
  realtime.state = {
    watermark: FIXTURE_NOW - 10 * MINUTE_MS,
    newestEventTime: FIXTURE_NOW - MINUTE_MS,
    live: true,
    lag: [{ topic: "topic_app_events", partition: 0, lag: 3 }],
  };
  const users = DistinctSketch.of(["u1", "u2"]);
  for (const [t, who] of [[FIXTURE_B - HOUR_MS, "batch"], [FIXTURE_B + MINUTE_MS, "rt"]] as const) {
    const put = who === "batch"
      ? <F>(
        v: "courseEngagement" | "videoViews" | "assessmentScores" | "userActivity",
        k: string,
        f: F,
      ) => batch.add(v, k, t, f as never)
      : <F>(
        v: "courseEngagement" | "videoViews" | "assessmentScores" | "userActivity",
        k: string,
        f: F,
      ) => realtime.put(v, k, t, 0, f as never);
    put("courseEngagement", "c1", {
      enrollments: 2,
      unenrollments: 1,
      completions: 1,
      activeUsers: users,
    });
    put("videoViews", "v1", { plays: 3, completes: 1, watchSeconds: 42.5, uniqueViewers: users });
    put("assessmentScores", "a1", {
      graded: 2,
      sumPercent: 150,
      minPercent: 50,
      maxPercent: 100,
      percents: QuantileSketch.of([50, 100]),
    });
    put("userActivity", "u1", {
      events: 5,
      logins: 1,
      videoEvents: 1,
      assessmentEvents: 1,
      appEvents: 2,
      lastSeen: t + 30_000,
    });
  }
  batch.addAppEvents(FIXTURE_B - HOUR_MS, { eventType: "click", appType: "web", userId: "u1" }, 4);
  realtime.putAppEvents(
    FIXTURE_B + MINUTE_MS,
    { eventType: "click", appType: "web", userId: "u1" },
    0,
    6,
  );
  batch.addSession({
    sessionId: "s1",
    userId: "u1",
    start: FIXTURE_B - HOUR_MS,
    end: FIXTURE_B - HOUR_MS + 60_000,
    durationSec: 60,
    clicks: 2,
    uniquePages: 2,
    path: ["/a", "/b"],
  });
  batch.addDailySummary({
    date: Date.UTC(2026, 10, 19),
    totalEvents: 10,
    activeUsers: 2,
    sessions: 1,
    avgSessionDurationSec: 60,
    p95SessionDurationSec: 60,
    eventsByType: [{ key: "click", count: 4 }],
    logins: 1,
    enrollments: 2,
    completions: 1,
  });
  batch.addUserSegment({
    userId: "u1",
    date: Date.UTC(2026, 10, 19),
    segment: "ACTIVE",
    engagementScore: 61.5,
    sessionFrequency: "HIGH",
    contentInterest: "SELECTED",
    devicePreference: "MULTI_DEVICE",
  });
  return { batch, realtime };
}

/** The app over the fixture stores (or the given ones), with a fixed clock. */
export function memoryApp(options: MemoryAppOptions = {}): ServingApp {
  const stores = fixtureStores();
  const engine = createMergeEngine({
    batch: options.batch ?? stores.batch,
    realtime: options.realtime ?? stores.realtime,
    now: () => FIXTURE_NOW,
  });
  return createServingApp({
    engine,
    config: {
      mode: options.mode ?? "test",
      servingTokens: options.tokens ?? [],
      corsOrigins: options.corsOrigins ?? [],
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    },
    logger: options.logger ?? createLogger({ name: "serving-test", level: "error" }),
    probes: options.probes,
  });
}
