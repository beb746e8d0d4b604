import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Mutex } from "./lock.ts";

Deno.test("the mutex runs holders one at a time in arrival order", async () => {
  const m = new Mutex();
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const a = m.run(async () => {
    log.push("a start");
    await gate;
    log.push("a end");
  });
  const b = m.run(() => log.push("b"));
  const c = m.run(() => log.push("c"));
  await Promise.resolve();
  assertEquals(log, ["a start"]);
  release();
  await Promise.all([a, b, c]);
  assertEquals(log, ["a start", "a end", "b", "c"]);
  assertEquals(m.locked, false);
});

Deno.test("a holder that throws releases the mutex", async () => {
  const m = new Mutex();
  await m.run(() => {
    throw new Error("x");
  }).catch(() => {});
  assertEquals(await m.run(() => 1), 1);
});
