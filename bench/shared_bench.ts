/**
 * @module
 * Micro-benchmarks of the shared hot paths: `deno bench -A bench/shared_bench.ts`.
 */
import { parseEvent } from "../shared/events.ts";
import { DistinctSketch } from "../shared/sketch/hll.ts";
import { QuantileSketch } from "../shared/sketch/quantile.ts";

const NOW = Date.UTC(2026, 10, 20, 12);
const video = new TextEncoder().encode(JSON.stringify({
  event_id: "evt-000001",
  user_id: "user-12345",
  timestamp: "2026-11-20T11:59:00.123Z",
  video_id: "video-42",
  course_id: "course-7",
  action: "heartbeat",
  watched_sec: 10,
  position_sec: 120,
}));
const app = JSON.stringify({
  event_id: "evt-000002",
  user_id: "user-12345",
  timestamp: NOW - 1000,
  event_type: "click",
  app_type: "web",
  session_id: "sess-1",
  properties: { button: "play" },
});
const bad = JSON.stringify({ event_id: "e", user_id: "u", timestamp: NOW, action: "bogus" });

Deno.bench("parseEvent: valid video heartbeat (bytes)", { group: "parse", baseline: true }, () => {
  parseEvent("VIDEO", video, { now: NOW });
});
Deno.bench("parseEvent: valid app event (text, epoch ms)", { group: "parse" }, () => {
  parseEvent("APP_EVENTS", app, { now: NOW });
});
Deno.bench("parseEvent: rejected auth event", { group: "parse" }, () => {
  parseEvent("AUTH", bad, { now: NOW });
});

const users = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
let u = 0;
const sparse = DistinctSketch.empty();
const dense = DistinctSketch.of(users);
Deno.bench("DistinctSketch.add (sparse, ≤ 1024 distinct)", { group: "hll" }, () => {
  sparse.add(users[u++ % 1000]);
});
Deno.bench("DistinctSketch.add (dense)", { group: "hll", baseline: true }, () => {
  dense.add(users[u++ % users.length]);
});

const sparseA = DistinctSketch.of(users.slice(0, 500));
const sparseB = DistinctSketch.of(users.slice(400, 900));
const denseB = DistinctSketch.of(users.slice(50_000));
Deno.bench("DistinctSketch.merge sparse + sparse (500 + 500)", { group: "hll merge" }, () => {
  sparseA.clone().merge(sparseB);
});
Deno.bench("DistinctSketch.merge dense + dense", { group: "hll merge" }, () => {
  DistinctSketch.empty().merge(dense).merge(denseB);
});
const sparseBytes = sparseA.serialize();
const denseBytes = dense.serialize();
Deno.bench("DistinctSketch.serialize sparse (500)", { group: "hll bytes" }, () => {
  sparseA.serialize();
});
Deno.bench("DistinctSketch.serialize dense", { group: "hll bytes" }, () => {
  dense.serialize();
});
Deno.bench("DistinctSketch.deserialize sparse (500)", { group: "hll bytes" }, () => {
  DistinctSketch.deserialize(sparseBytes);
});
Deno.bench("DistinctSketch.deserialize dense", { group: "hll bytes" }, () => {
  DistinctSketch.deserialize(denseBytes);
});

const percents = Array.from({ length: 4096 }, (_, i) => ((i * 7919) % 10_000) / 100);
let p = 0;
const quantiles = new QuantileSketch();
Deno.bench("QuantileSketch.add (percents)", { group: "quantile", baseline: true }, () => {
  quantiles.add(percents[p++ & 4095]);
});
Deno.bench("QuantileSketch.quantile(0.95)", { group: "quantile" }, () => {
  quantiles.quantile(0.95);
});
Deno.bench("QuantileSketch.serialize", { group: "quantile" }, () => {
  quantiles.serialize();
});
