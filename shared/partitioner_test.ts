import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import { murmur2, partitionFor } from "./partitioner.ts";

function kafkajsPartition(key: string, n: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: "t",
    partitionMetadata: Array.from({ length: n }, (_, i) => ({
      partitionId: i,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: "v" },
  });
}

/** Deterministic pseudo-random generator (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomKey(next: () => number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:éü€😀中\u0000";
  const chars = [...alphabet];
  const len = Math.floor(next() * 40);
  let s = "";
  for (let i = 0; i < len; i++) s += chars[Math.floor(next() * chars.length)];
  return s;
}

Deno.test("partitionFor equals kafkajs DefaultPartitioner on 5000 random keys", () => {
  const next = rng(42);
  for (let i = 0; i < 5000; i++) {
    const key = i % 2 === 0 ? `user-${Math.floor(next() * 1e9)}` : randomKey(next);
    for (const n of [1, 3, 6, 7, 12, 100]) {
      assert.equal(partitionFor(key, n), kafkajsPartition(key, n), `key ${JSON.stringify(key)}`);
    }
  }
});

Deno.test("partitionFor equals kafkajs for keys of every tail length", () => {
  for (let len = 0; len <= 17; len++) {
    const key = "x".repeat(len);
    assert.equal(partitionFor(key, 6), kafkajsPartition(key, 6));
  }
});

Deno.test("lone surrogates hash like Node's Buffer.from (U+FFFD)", () => {
  for (const key of ["a\ud800b", "\udfff", "ok\ud83d"]) {
    assert.equal(partitionFor(key, 6), kafkajsPartition(key, 6));
  }
});

Deno.test("murmur2 matches known Kafka Java values", () => {
  // Values from Kafka's UtilsTest.testMurmur2.
  const cases: [string, number][] = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ];
  for (const [s, want] of cases) assert.equal(murmur2(new TextEncoder().encode(s)), want, s);
});

Deno.test("partitionFor accepts bytes and refuses a bad partition count", () => {
  assert.equal(partitionFor(new TextEncoder().encode("user-1"), 6), partitionFor("user-1", 6));
  assert.throws(() => partitionFor("k", 0), RangeError);
  assert.throws(() => partitionFor("k", 1.5), RangeError);
});
