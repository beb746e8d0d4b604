import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { type DuePolicy, KeyedWindows } from "./keyed_windows.ts";

function windows() {
  const w = new KeyedWindows<{ n: number }>({ init: () => ({ n: 0 }) });
  let offset = 0;
  const add = (key: string, start: number) =>
    w.cell(key, start, start + 10, offset++, -1, false).state.n++;
  return { w, add };
}

Deno.test("deferred cells wait by window and are asked about only when their window is partly due", () => {
  const { w, add } = windows();
  add("a", 0);
  add("a", 10);
  add("b", 10);
  add("a", 20);
  const asked: string[] = [];
  const policy = (dueEnd: number, someEnd?: number): DuePolicy<{ n: number }> => ({
    window: (_s, end) => end <= dueEnd ? "all" : end === someEnd ? "some" : "none",
    cell: (c) => (asked.push(`${c.key}${c.start}`), c.key === "a"),
  });
  assertEquals(w.drainDirty(policy(10)).map((c) => `${c.key}${c.start}`), ["a0"]);
  assertEquals([w.dirtyCount, w.deferredFrom()], [3, 1]);
  assertEquals(w.drainDirty(policy(10, 20)).map((c) => `${c.key}${c.start}`), ["a10"]);
  assertEquals(asked, ["a10", "b10"]);
  assertEquals([w.dirtyCount, w.deferredFrom()], [2, 2]);
  add("c", 20);
  assertEquals(w.drainDirty(policy(30)).map((c) => `${c.key}${c.start}`), ["b10", "a20", "c20"]);
  assertEquals([w.dirtyCount, w.deferredFrom()], [0, undefined]);
});

Deno.test("a drain without a policy takes every dirty cell, deferred ones included", () => {
  const { w, add } = windows();
  add("a", 0);
  add("a", 10);
  w.drainDirty({ window: () => "none", cell: () => false });
  add("b", 0);
  assertEquals(w.drainDirty().map((c) => `${c.key}${c.start}`), ["b0", "a0", "a10"]);
  assertEquals(w.dirtyCount, 0);
});
