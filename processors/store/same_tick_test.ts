import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { SameTickBatcher } from "./same_tick.ts";

Deno.test("items added in the same tick run together; a later tick runs apart", async () => {
  const runs: number[][] = [];
  const b = new SameTickBatcher<number>((items) => (runs.push(items), Promise.resolve()));
  const first = b.batch();
  first.items.push(1);
  const second = b.batch();
  second.items.push(2, 3);
  assertEquals(first.done, second.done);
  await first.done;
  b.batch().items.push(4);
  await b.batch().done;
  assertEquals(runs, [[1, 2, 3], [4]]);
});

Deno.test("every caller of a coalesced run sees its failure", async () => {
  const b = new SameTickBatcher<number>(() => Promise.reject(new Error("down")));
  const [x, y] = [b.batch(), b.batch()];
  await rejects(x.done, /down/);
  await rejects(y.done, /down/);
});
