import assert from "node:assert/strict";
import { DistinctSketch, hash64, SPARSE_LIMIT } from "./hll.ts";
import { partitionFor } from "../partitioner.ts";

function values(n: number, prefix = "user-"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** Deterministic Fisher-Yates shuffle (mulberry32). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

Deno.test("the hi lane is MurmurHash3 x86_32 with seed 0 of the UTF-8 bytes", () => {
  assert.equal(hash64("")[0], 0);
  assert.equal(hash64("hello")[0], 0x248bfa47);
  assert.equal(hash64("The quick brown fox jumps over the lazy dog")[0], 0x2e4ff723);
  assert.notEqual(hash64("hello")[1], hash64("hello")[0]);
});

Deno.test("hashes are stable across releases (golden values)", () => {
  // Changing the hash changes every stored sketch: batch and realtime bytes would disagree.
  assert.deepEqual(hash64("user-1"), [0xf8a28763, 0x868318c0]);
  // Non-ASCII is hashed as UTF-8 too, also after an ASCII start (values of the encoder-only
  // implementation).
  assert.deepEqual(hash64("user-ä"), [1114275838, 3549384135]);
  assert.deepEqual(hash64("mixed ascii then é"), [616391046, 3952387571]);
  assert.deepEqual(hash64("日本語のユーザー"), [1085950844, 1894186827]);
  assert.deepEqual(hash64("😀 emoji"), [2448033982, 3491445950]);
  const bytes = DistinctSketch.of(["a", "b", "c"]).serialize();
  assert.equal(bytes.length, 4 + 3 * 8);
  assert.deepEqual([...bytes.subarray(0, 4)], [1, 0, 0, 3]);
});

Deno.test("counts are exact up to 1024 distinct values", () => {
  const s = DistinctSketch.empty();
  for (let i = 0; i < SPARSE_LIMIT; i++) {
    s.add(`user-${i}`);
    s.add(`user-${i}`);
    if ((i + 1) % 128 === 0) assert.equal(s.estimate(), i + 1);
  }
  assert.equal(s.mode, "sparse");
  assert.equal(s.exact, true);
  assert.equal(s.estimate(), 1024);
  s.add("one more");
  assert.equal(s.mode, "dense");
  assert.ok(Math.abs(s.estimate() - 1025) / 1025 < 0.02);
});

Deno.test("an empty sketch estimates 0 and serialises to 4 bytes", () => {
  const s = DistinctSketch.empty();
  assert.equal(s.estimate(), 0);
  assert.deepEqual([...s.serialize()], [1, 0, 0, 0]);
  assert.equal(DistinctSketch.deserialize(s.serialize()).estimate(), 0);
});

for (const n of [10_000, 100_000, 1_000_000]) {
  Deno.test(`relative error is at most 2 % for ${n} distinct values`, () => {
    const s = DistinctSketch.empty();
    for (let i = 0; i < n; i++) s.add(`user-${i}`);
    const err = Math.abs(s.estimate() - n) / n;
    assert.ok(err <= 0.02, `error ${(err * 100).toFixed(2)} % for ${n}`);
    const u = DistinctSketch.empty();
    for (let i = 0; i < n; i++) u.add(`${i}@example.com`);
    const err2 = Math.abs(u.estimate() - n) / n;
    assert.ok(err2 <= 0.02, `error ${(err2 * 100).toFixed(2)} % for ${n} emails`);
  });
}

Deno.test("the bytes do not depend on insertion order", () => {
  for (const n of [10, 1000, 5000]) {
    const vs = values(n);
    const a = DistinctSketch.of(vs).serialize();
    const b = DistinctSketch.of(shuffled(vs, n)).serialize();
    const c = DistinctSketch.of([...shuffled(vs, 7), ...vs]).serialize();
    assert.deepEqual(b, a);
    assert.deepEqual(c, a);
  }
});

Deno.test("merging many partitions equals the sketch of the union, byte for byte", () => {
  for (const n of [900, 1500, 100_000]) {
    const vs = values(n);
    const parts = Array.from({ length: 12 }, () => DistinctSketch.empty());
    for (const v of vs) parts[partitionFor(v, 12)].add(v);
    const whole = DistinctSketch.of(vs).serialize();
    assert.deepEqual(DistinctSketch.union(parts).serialize(), whole);
    assert.deepEqual(DistinctSketch.union(shuffled(parts, 3)).serialize(), whole);
    // Through bytes, as rows read back from Cassandra or Parquet would be.
    const fromBytes = parts.map((p) => DistinctSketch.deserialize(p.serialize()));
    assert.deepEqual(DistinctSketch.union(fromBytes).serialize(), whole);
  }
});

Deno.test("merge is commutative and associative across sparse and dense", () => {
  const a = () => DistinctSketch.of(values(700, "a")); // sparse
  const b = () => DistinctSketch.of(values(600, "b")); // sparse, a ∪ b is dense
  const c = () => DistinctSketch.of(values(3000, "c")); // dense
  const d = () => DistinctSketch.of(values(100, "a")); // sparse, inside a
  assert.deepEqual(a().merge(b()).serialize(), b().merge(a()).serialize());
  assert.deepEqual(a().merge(c()).serialize(), c().merge(a()).serialize());
  assert.deepEqual(a().merge(d()).serialize(), a().serialize());
  assert.deepEqual(
    a().merge(b()).merge(c()).serialize(),
    a().merge(b().merge(c())).serialize(),
  );
  assert.deepEqual(
    a().merge(b()).serialize(),
    DistinctSketch.of([...values(700, "a"), ...values(600, "b")]).serialize(),
  );
});

Deno.test("sparse sketches stay sparse and exact while the union has at most 1024 values", () => {
  const a = DistinctSketch.of(values(600));
  const b = DistinctSketch.of(values(1024).slice(400));
  a.merge(b);
  assert.equal(a.mode, "sparse");
  assert.equal(a.estimate(), 1024);
  a.merge(DistinctSketch.of(["x"]));
  assert.equal(a.mode, "dense");
});

Deno.test("merge returns the receiver, leaves the argument alone and ignores itself", () => {
  const a = DistinctSketch.of(["1", "2"]);
  const b = DistinctSketch.of(["2", "3"]);
  const before = b.serialize();
  assert.equal(a.merge(b), a);
  assert.deepEqual(b.serialize(), before);
  assert.equal(a.estimate(), 3);
  assert.equal(a.merge(a).estimate(), 3);
  const u = DistinctSketch.union([a, b]);
  assert.equal(u.estimate(), 3);
  assert.equal(a.clone().add("4").estimate(), 4);
  assert.equal(a.estimate(), 3);
});

Deno.test("serialisation round-trips in both modes", () => {
  for (const n of [0, 1, 1024, 1025, 50_000]) {
    const s = DistinctSketch.of(values(n));
    const bytes = s.serialize();
    const back = DistinctSketch.deserialize(bytes);
    assert.deepEqual(back.serialize(), bytes);
    assert.equal(back.estimate(), s.estimate());
    assert.equal(back.mode, s.mode);
  }
  assert.equal(DistinctSketch.of(values(2000)).serialize().length, 3 + 49152);
});

Deno.test("deserialize accepts a view into a larger buffer", () => {
  const bytes = DistinctSketch.of(values(5)).serialize();
  const big = new Uint8Array(bytes.length + 10);
  big.set(bytes, 5);
  assert.equal(DistinctSketch.deserialize(big.subarray(5, 5 + bytes.length)).estimate(), 5);
});

Deno.test("deserialize refuses malformed bytes with a RangeError", () => {
  const sparse = DistinctSketch.of(values(3)).serialize();
  const dense = DistinctSketch.of(values(2000)).serialize();
  const unsorted = sparse.slice();
  unsorted.set(sparse.subarray(4, 12), 12);
  unsorted.set(sparse.subarray(12, 20), 4);
  const badRegister = dense.slice();
  badRegister[3] = 0xff;
  for (
    const bad of [
      new Uint8Array(),
      new Uint8Array([2, 0, 0, 0]),
      new Uint8Array([1, 9, 0, 0]),
      sparse.subarray(0, sparse.length - 1),
      unsorted,
      dense.subarray(0, 100),
      badRegister,
    ]
  ) {
    assert.throws(() => DistinctSketch.deserialize(bad), RangeError);
  }
});

Deno.test("values are hashed as UTF-8", () => {
  const s = DistinctSketch.of(["é", "e\u0301", "😀", "中文", "\u0000", ""]);
  assert.equal(s.estimate(), 6);
  assert.equal(DistinctSketch.of(["x".repeat(10_000), "x".repeat(10_001)]).estimate(), 2);
});
