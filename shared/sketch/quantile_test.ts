import assert from "node:assert/strict";
import { DDSketch } from "@datadog/sketches-js";
import { QuantileSketch } from "./quantile.ts";

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const QS = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** Value at rank floor(q·(n−1)) of the sorted values: the contract's definition. */
function exact(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

function assertWithin(sketch: QuantileSketch, values: number[], label: string): void {
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of QS) {
    const want = exact(sorted, q);
    const got = sketch.quantile(q)!;
    const err = want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
    assert.ok(err <= 0.01, `${label}: q=${q} got ${got}, want ${want} (error ${err})`);
    if (want === 0) assert.equal(got, 0, `${label}: q=${q} must be exactly 0`);
  }
}

const DATASETS: Record<string, (next: () => number) => number> = {
  "uniform percents 0..100": (next) => next() * 100,
  "integer percents with many zeros": (next) => next() < 0.3 ? 0 : Math.round(next() * 100),
  "skewed durations (log-normal)": (next) =>
    Math.exp(2 + 2 * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())),
  "exponential with zeros": (next) => next() < 0.1 ? 0 : -Math.log(1 - next()) * 30,
  "heavy tail (Pareto)": (next) => 1 / Math.pow(1 - next(), 1.5),
  "signed values": (next) => (next() - 0.6) * 1000,
};

for (const [name, gen] of Object.entries(DATASETS)) {
  Deno.test(`quantiles are within 1 % of the exact ranks: ${name}`, () => {
    const next = rng(name.length * 7919);
    for (const n of [1, 2, 7, 100, 20_000]) {
      const values = Array.from({ length: n }, () => gen(next));
      assertWithin(QuantileSketch.of(values), values, `${name} n=${n}`);
    }
  });

  Deno.test(`quantiles stay within 1 % after merging many sketches: ${name}`, () => {
    const next = rng(name.length * 104729);
    const values = Array.from({ length: 30_000 }, () => gen(next));
    const parts = Array.from({ length: 24 }, () => new QuantileSketch());
    values.forEach((v, i) => parts[(i * 7 + (i >> 3)) % 24].add(v));
    const viaBytes = parts.map((p) => QuantileSketch.deserialize(p.serialize()));
    const merged = QuantileSketch.union(viaBytes);
    assert.equal(merged.count, values.length);
    assertWithin(merged, values, `${name} merged`);
    assert.deepEqual(merged.serialize(), QuantileSketch.of(values).serialize());
  });
}

Deno.test("an empty sketch answers null", () => {
  const s = new QuantileSketch();
  assert.equal(s.quantile(0.5), null);
  assert.equal(s.count, 0);
  assert.equal(s.min, null);
  assert.equal(s.max, null);
  assert.equal(QuantileSketch.deserialize(s.serialize()).quantile(0.5), null);
});

Deno.test("min, max and count are exact, and q = 0 / q = 1 return them", () => {
  const s = QuantileSketch.of([3.3, 0, 99.9, 42]);
  assert.equal(s.count, 4);
  assert.equal(s.min, 0);
  assert.equal(s.max, 99.9);
  assert.equal(s.quantile(0), 0);
  assert.equal(s.quantile(1), 99.9);
  assert.equal(QuantileSketch.of([42]).quantile(0.5), 42);
});

Deno.test("zeros are exact and a rank on a zero returns 0", () => {
  const s = QuantileSketch.of([0, 0, 0, 5]);
  assert.equal(s.quantile(0.5), 0);
  assert.equal(s.quantile(0.66), 0);
  assert.ok(Math.abs(s.quantile(0.99)! - 0) === 0); // floor(0.99·3) = 2 → 0
  assert.equal(s.quantile(1), 5);
});

Deno.test("the rank rule is floor(q·(n−1)), like DDSketch", () => {
  const values = [10, 20, 30, 40];
  const s = QuantileSketch.of(values);
  const lib = new DDSketch({ relativeAccuracy: 0.005 });
  values.forEach((v) => lib.accept(v));
  for (const q of [0.1, 0.33, 0.34, 0.5, 0.66, 0.67, 0.9, 0.99]) {
    const want = values[Math.floor(q * 3)];
    assert.ok(Math.abs(s.quantile(q)! - want) / want <= 0.005, `q=${q}`);
    assert.equal(s.quantile(q), Math.min(40, Math.max(10, lib.getValueAtQuantile(q))));
  }
});

Deno.test("the bytes do not depend on insertion or merge order", () => {
  const next = rng(5);
  const values = Array.from({ length: 5000 }, () => Math.round(next() * 10000) / 100);
  const a = QuantileSketch.of(values).serialize();
  const b = QuantileSketch.of([...values].reverse()).serialize();
  const c = QuantileSketch.of(values.slice(2500)).merge(QuantileSketch.of(values.slice(0, 2500)))
    .serialize();
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
});

Deno.test("serialisation round-trips, including negatives and zeros", () => {
  const s = QuantileSketch.of([-5, -0.001, 0, 0, 1e-9, 3, 1e12]);
  const back = QuantileSketch.deserialize(s.serialize());
  assert.deepEqual(back.serialize(), s.serialize());
  assert.equal(back.count, 7);
  assert.equal(back.min, -5);
  assert.equal(back.max, 1e12);
  for (const q of QS) assert.equal(back.quantile(q), s.quantile(q));
});

Deno.test("a sketch of percents stays small", () => {
  const next = rng(11);
  const s = QuantileSketch.of(Array.from({ length: 100_000 }, () => next() * 100));
  assert.ok(s.serialize().length < 4096, `${s.serialize().length} bytes`);
});

Deno.test("merge returns the receiver, copes with itself and leaves the argument alone", () => {
  const a = QuantileSketch.of([1, 2]);
  const b = QuantileSketch.of([3]);
  const before = b.serialize();
  assert.equal(a.merge(b), a);
  assert.deepEqual(b.serialize(), before);
  a.merge(a);
  assert.equal(a.count, 6);
  assert.equal(a.max, 3);
  assert.equal(a.merge(new QuantileSketch()).count, 6);
  assert.equal(new QuantileSketch().merge(b).quantile(0.5), 3);
});

Deno.test("invalid values and quantiles are refused", () => {
  const s = new QuantileSketch();
  for (const v of [NaN, Infinity, -Infinity, 1.79e308]) assert.throws(() => s.add(v), RangeError);
  s.add(1);
  for (const q of [-0.1, 1.1, NaN]) assert.throws(() => s.quantile(q), RangeError);
});

Deno.test("deserialize refuses malformed bytes with a RangeError", () => {
  const good = QuantileSketch.of([1, 2, 3]).serialize();
  for (
    const bad of [
      new Uint8Array(),
      new Uint8Array([9]),
      good.subarray(0, good.length - 1),
      new Uint8Array([...good, 0]),
    ]
  ) {
    assert.throws(() => QuantileSketch.deserialize(bad), RangeError);
  }
});
