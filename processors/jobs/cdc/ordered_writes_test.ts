import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { OrderedWrites } from "./ordered_writes.ts";

Deno.test("a later write first completes an earlier failed one, in order, each once", async () => {
  const w = new OrderedWrites();
  const log: string[] = [];
  let fail = true;
  const a = w.add(() => {
    if (fail) return Promise.reject(new Error("down"));
    log.push("a");
    return Promise.resolve();
  });
  const b = w.add(() => {
    log.push("b");
    return Promise.resolve();
  });
  await rejects(a(), /down/);
  await rejects(b(), /down/, "b cannot complete while a is failing");
  fail = false;
  await b();
  await a(); // already done by b: nothing runs again
  assertEquals(log, ["a", "b"]);
  assertEquals(w.size, 0);
});
