import assert from "node:assert/strict";
import { bucketQuantile, processMetrics, Registry } from "./metrics.ts";

Deno.test("counters add per label set and render with HELP and TYPE", () => {
  const r = new Registry();
  const c = r.counter("events_total", "Events read", ["topic"]);
  c.inc({ topic: "a" });
  c.inc({ topic: "a" }, 2);
  c.inc({ topic: "b" });
  assert.deepEqual(c.get({ topic: "a" }), 3);
  assert.deepEqual(c.get({ topic: "zzz" }), 0);
  assert.deepEqual(
    r.render(),
    [
      "# HELP events_total Events read",
      "# TYPE events_total counter",
      'events_total{topic="a"} 3',
      'events_total{topic="b"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("a counter without labels renders without braces", () => {
  const r = new Registry();
  r.counter("x_total", "x").inc();
  assert.ok(r.render().includes("\nx_total 1\n"));
});

Deno.test("counters refuse to decrease", () => {
  const c = new Registry().counter("c_total", "c");
  assert.throws(() => c.inc(undefined, -1), RangeError);
});

Deno.test("gauges set, increase and decrease", () => {
  const g = new Registry().gauge("lag", "Lag", ["partition"]);
  g.set({ partition: 0 }, 10);
  g.inc({ partition: 0 }, 5);
  g.dec({ partition: 0 });
  g.dec({ partition: 1 }, 2);
  assert.deepEqual(g.get({ partition: 0 }), 14);
  assert.deepEqual(g.get({ partition: 1 }), -2);
});

Deno.test("label values are escaped", () => {
  const r = new Registry();
  r.counter("e_total", "Help with \\ and\nnewline", ["v"]).inc({ v: 'a"b\\c\nd' });
  const text = r.render();
  assert.ok(text.includes('e_total{v="a\\"b\\\\c\\nd"} 1'));
  assert.ok(text.includes("# HELP e_total Help with \\\\ and\\nnewline"));
});

Deno.test("unknown label names are refused", () => {
  const c = new Registry().counter("c_total", "c", ["topic"]);
  assert.throws(() => c.inc({ topik: "x" }), RangeError);
});

Deno.test("missing label values render as empty strings in declared order", () => {
  const r = new Registry();
  r.counter("c_total", "c", ["b", "a"]).inc({ a: "1" });
  assert.ok(r.render().includes('c_total{b="",a="1"} 1'));
});

Deno.test("histograms render cumulative buckets, +Inf, sum and count", () => {
  const r = new Registry();
  const h = r.histogram("lat_seconds", "Latency", [0.1, 1], ["route"]);
  h.observe({ route: "/g" }, 0.05);
  h.observe({ route: "/g" }, 0.1);
  h.observe({ route: "/g" }, 0.5);
  h.observe({ route: "/g" }, 3);
  const text = r.render();
  for (
    const line of [
      "# TYPE lat_seconds histogram",
      'lat_seconds_bucket{route="/g",le="0.1"} 2',
      'lat_seconds_bucket{route="/g",le="1"} 3',
      'lat_seconds_bucket{route="/g",le="+Inf"} 4',
      'lat_seconds_sum{route="/g"} 3.65',
      'lat_seconds_count{route="/g"} 4',
    ]
  ) assert.ok(text.includes(line + "\n"), `missing ${line} in\n${text}`);
  const s = h.snapshot({ route: "/g" });
  assert.deepEqual(s.count, 4);
  assert.deepEqual(s.buckets.map((b) => b.count), [2, 3, 4]);
  assert.deepEqual(s.buckets.at(-1)?.le, Infinity);
});

Deno.test("histogram quantiles interpolate inside buckets like histogram_quantile", () => {
  const h = new Registry().histogram("h", "h", [10, 20, 30]);
  for (let v = 1; v <= 30; v++) h.observe({}, v);
  const s = h.snapshot();
  assert.deepEqual(s.quantile(0.5), 15);
  assert.deepEqual(s.quantile(1), 30);
  assert.deepEqual(s.quantile(0), 0);
  assert.deepEqual(new Registry().histogram("e", "e", [1]).snapshot().quantile(0.5), null);
  assert.deepEqual(bucketQuantile(0.99, [{ le: 1, count: 1 }, { le: Infinity, count: 10 }]), 1);
});

Deno.test("registering a name again returns the same metric", () => {
  const r = new Registry();
  const a = r.counter("c_total", "c", ["x"]);
  assert.ok(r.counter("c_total", "c", ["x"]) === a);
  const h = r.histogram("h", "h", [1, 2]);
  assert.ok(r.histogram("h", "h", [1, 2]) === h);
});

Deno.test("registering a name with another type, labels or buckets throws", () => {
  const r = new Registry();
  r.counter("m", "m", ["x"]);
  r.histogram("h", "h", [1, 2]);
  assert.throws(() => r.gauge("m", "m", ["x"]), TypeError);
  assert.throws(() => r.counter("m", "m", ["y"]), TypeError);
  assert.throws(() => r.histogram("h", "h", [1, 3]), TypeError);
});

Deno.test("invalid names and buckets are refused", () => {
  const r = new Registry();
  assert.throws(() => r.counter("bad-name", "x"), RangeError);
  assert.throws(() => r.counter("ok", "x", ["__reserved"]), RangeError);
  assert.throws(() => r.histogram("h", "x", [2, 1]), RangeError);
  assert.throws(() => r.histogram("h2", "x", [1], ["le"]), RangeError);
});

Deno.test("special values render as +Inf, -Inf and NaN", () => {
  const r = new Registry();
  const g = r.gauge("g", "g", ["k"]);
  g.set({ k: "a" }, Infinity);
  g.set({ k: "b" }, -Infinity);
  const text = r.render();
  assert.ok(text.includes('g{k="a"} +Inf'));
  assert.ok(text.includes('g{k="b"} -Inf'));
});

Deno.test("process metrics are refreshed on render", () => {
  const r = new Registry();
  let t = 1000;
  processMetrics(r, { now: () => t, rss: () => 123 });
  assert.ok(r.render().includes("\nprocess_uptime_seconds 1\n"));
  t = 5000;
  const text = r.render();
  assert.ok(text.includes("\nprocess_uptime_seconds 5\n"));
  assert.ok(text.includes("\nprocess_resident_memory_bytes 123\n"));
});

Deno.test("default process metrics read the real process", () => {
  const r = new Registry();
  processMetrics(r);
  r.render();
  const rss = r.get("process_resident_memory_bytes") as { get(): number };
  assert.ok(rss.get() > 0);
});
