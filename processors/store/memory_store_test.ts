import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { MemoryViewStore } from "./memory_store.ts";
import { NOTIFICATION_FUNNEL } from "./tables.ts";

const M = Date.UTC(2026, 10, 20, 5);

function row(sent: number, version: number) {
  return {
    table: NOTIFICATION_FUNNEL,
    op: "upsert" as const,
    values: ["email", M, 0, sent, 0, 0, 0, 0],
    version,
  };
}

Deno.test("the memory store keeps the row with the highest write timestamp", async () => {
  const s = new MemoryViewStore();
  await s.write([row(5, 10)]);
  await s.write([row(3, 4)]); // a stale writer loses
  assertEquals(s.rows(NOTIFICATION_FUNNEL), [["email", M, 0, 5, 0, 0, 0, 0]]);
  await s.write([row(6, 11)]);
  assertEquals(s.objects(NOTIFICATION_FUNNEL)[0].sent, 6);
});

Deno.test("a delete removes the row unless a newer upsert follows", async () => {
  const s = new MemoryViewStore();
  await s.write([row(5, 10)]);
  await s.write([{
    table: NOTIFICATION_FUNNEL,
    op: "delete",
    values: ["email", M, 0],
    version: 9,
  }]);
  assertEquals(s.rows(NOTIFICATION_FUNNEL).length, 1);
  await s.write([{
    table: NOTIFICATION_FUNNEL,
    op: "delete",
    values: ["email", M, 0],
    version: 12,
  }]);
  assertEquals(s.rows(NOTIFICATION_FUNNEL), []);
});

Deno.test("a row with the wrong number of values is refused", async () => {
  const s = new MemoryViewStore();
  await rejects(
    s.write([{ table: NOTIFICATION_FUNNEL, op: "upsert", values: ["email"], version: 1 }]),
    /expected 8 values, got 1/,
  );
});
