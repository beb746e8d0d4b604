import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";

Deno.test("backoff doubles from the initial delay up to the cap", () => {
  const d = (a: number) => backoffDelay(a, { initialMs: 100, maxMs: 1000, jitter: 0 });
  assertEquals([0, 1, 2, 3, 4, 5, 50].map(d), [100, 200, 400, 800, 1000, 1000, 1000]);
});

Deno.test("jitter only shortens the delay", () => {
  assertEquals(backoffDelay(2, { initialMs: 100, jitter: 0.5, random: () => 0.999 }) >= 200, true);
  assertEquals(backoffDelay(2, { initialMs: 100, jitter: 0.5, random: () => 0 }), 400);
});

Deno.test("an impossible backoff is refused", () => {
  throws(() => backoffDelay(0, { initialMs: 0 }), RangeError);
  throws(() => backoffDelay(0, { initialMs: 10, maxMs: 5 }), RangeError);
});
