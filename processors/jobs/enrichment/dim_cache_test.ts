import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createDimFeed } from "../cdc/dim_feed.ts";
import { MemoryUserDimStore } from "../cdc/user_dim.ts";
import { DimCache } from "./dim_cache.ts";

const T = 1_700_000_000_000;

async function store() {
  const s = new MemoryUserDimStore();
  await s.writeCdc([{
    entityId: "u1",
    action: "upsert",
    fields: { id: "u1", plan: "free" },
    op: "c",
    position: "lsn:1",
    sourceTsMs: T,
    writeTs: T * 1000,
  }]);
  return s;
}

Deno.test("a profile change older than the row's CDC state does not show; a newer one does", async () => {
  const c = new DimCache(await store());
  await c.load(["u1"]);
  c.applyProfile("u1", "plan", "old", (T - 5) * 1000);
  assertEquals(c.view("u1").fields.plan, "free");
  c.applyProfile("u1", "plan", "premium", (T + 5) * 1000);
  c.applyProfile("u1", "bio", null, (T + 6) * 1000);
  assertEquals(c.view("u1").fields, { id: "u1", plan: "premium" });
});

Deno.test("rows are read once until too old or invalidated (one id, or all with '*')", async () => {
  let now = 0;
  const feed = createDimFeed();
  const c = new DimCache(await store(), { maxAgeMs: 100, now: () => now, feed });
  await c.load(["u1", "u2"]);
  await c.load(["u1", "u2"]);
  assertEquals(c.reads, 2);
  assertEquals([c.view("u1").known, c.view("u2").known], [true, false]);
  feed.publish(["u1"]);
  await c.load(["u1", "u2"]);
  assertEquals(c.reads, 3);
  feed.publish(["*"]);
  await c.load(["u1", "u2"]);
  assertEquals(c.reads, 5);
  now = 100;
  await c.load(["u2"]);
  assertEquals(c.reads, 6);
  c.close();
  feed.publish(["u1"]);
  await c.load(["u1"]);
  assertEquals(c.reads, 7, "u1 was also too old; the closed cache ignores the feed");
});
