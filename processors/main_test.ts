import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { resolveConfig } from "../shared/config.ts";
import { createLogger } from "../shared/log.ts";
import { Registry } from "../shared/metrics.ts";
import { buildJobs, enabledJobs, sessionTimeoutMs, writeWorker } from "./main.ts";
import { JobRegistry } from "./jobs/registry.ts";
import { videoViewsJob } from "./jobs/video_views/mod.ts";
import { MemoryViewStore } from "./store/memory_store.ts";

Deno.test("--jobs overrides the configured jobs and refuses unknown names", () => {
  const cfg = resolveConfig({ DISABLED_JOBS: "archiver" });
  assertEquals(enabledJobs(cfg).includes("archiver"), false);
  assertEquals(enabledJobs(cfg, "video_views, notifications"), ["video_views", "notifications"]);
  throws(() => enabledJobs(cfg, "video_views,nope"), /unknown job "nope"/);
  throws(() => enabledJobs(cfg, " , "), /comma-separated/);
});

Deno.test("enabled jobs that are not implemented yet are logged and skipped", () => {
  const lines: string[] = [];
  const log = createLogger({ name: "t", write: (l) => lines.push(l) });
  const cfg = resolveConfig({});
  const jobs = buildJobs(
    ["video_views", "cdc_transformation", "data_enrichment"],
    new JobRegistry().register("video_views", videoViewsJob),
    { config: cfg, store: new MemoryViewStore(), log, metrics: new Registry() },
    log,
  );
  assertEquals(jobs.map((j) => j.name), ["video_views"]);
  assertEquals(lines.length, 2);
  assertEquals(
    JSON.parse(lines[0]).msg,
    "stream job cdc_transformation is not implemented yet; skipped",
  );
});

Deno.test("the consumer session time-out is validated with a clear message", () => {
  assertEquals(sessionTimeoutMs({}), 30_000);
  assertEquals(sessionTimeoutMs({ CONSUMER_SESSION_TIMEOUT_MS: "6000" }), 6_000);
  throws(
    () => sessionTimeoutMs({ CONSUMER_SESSION_TIMEOUT_MS: "10s" }),
    /CONSUMER_SESSION_TIMEOUT_MS="10s"/,
  );
  throws(() => sessionTimeoutMs({ CONSUMER_SESSION_TIMEOUT_MS: "100" }), /6000\.\.300000/);
});

Deno.test("row writes stay on the consumer's thread unless STREAM_WRITE_WORKER=1", () => {
  assertEquals(writeWorker({}), false);
  assertEquals(writeWorker({ STREAM_WRITE_WORKER: "1" }), true);
  assertEquals(writeWorker({ STREAM_WRITE_WORKER: "0" }), false);
  throws(() => writeWorker({ STREAM_WRITE_WORKER: "yes" }), /STREAM_WRITE_WORKER="yes"/);
});
