import assert from "node:assert/strict";
import { Lru } from "./lru.ts";

Deno.test("Lru evicts the least recently used entries beyond its weight", () => {
  const lru = new Lru<string, number>({ maxWeight: 3 });
  lru.set("a", 1).set("b", 2).set("c", 3);
  assert.equal(lru.get("a"), 1); // a is now the most recent
  lru.set("d", 4);
  assert.equal(lru.has("b"), false);
  assert.deepEqual(["a", "c", "d"].map((k) => lru.get(k)), [1, 3, 4]);
});

Deno.test("Lru weighs entries and keeps at least the newest one", () => {
  const lru = new Lru<string, Uint8Array>({ maxWeight: 10, weigh: (v) => v.length });
  lru.set("a", new Uint8Array(6)).set("b", new Uint8Array(6));
  assert.equal(lru.has("a"), false);
  assert.equal(lru.weight, 6);
  lru.set("big", new Uint8Array(50));
  assert.equal(lru.size, 1);
  assert.equal(lru.weight, 50);
  lru.retain((k) => k !== "big");
  assert.equal(lru.size, 0);
  assert.equal(lru.weight, 0);
});
