/** The test runner's pure parts: planning the pieces and counting results from deno's output. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { findTestFiles, OutputCounter, planPieces } from "./run.ts";

function count(text: string, cutShort: boolean) {
  const c = new OutputCounter();
  // Split mid-line on purpose: chunks do not follow lines.
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += 7) c.push(bytes.subarray(i, i + 7));
  return c.result(cutShort);
}

Deno.test("a finished run is counted from deno's summary line", () => {
  const out = [
    "\x1b[0m\x1b[38;5;245mrunning 3 tests from ./a_test.ts\x1b[0m",
    "one ... \x1b[0m\x1b[32mok\x1b[0m (3ms)",
    "two ... ok (1s)",
    "  step ... ok (1ms)",
    "three ... FAILED (2ms)",
    "",
    "FAILED | 2 passed (1 step) | 1 failed (1s)",
    "",
  ].join("\n");
  assertEquals(count(out, false), { passed: 2, failed: 1 });
});

Deno.test("a run killed mid-test counts its unfinished tests as failed", () => {
  const out = [
    "running 2 tests from ./tests/a_test.ts",
    "first ... ok (15s)",
    "second ...",
    "running 1 test from ./tests/b_test.ts",
  ].join("\n");
  assertEquals(count(out, true), { passed: 1, failed: 2 });
});

Deno.test("a run killed before it announced a test is one failure", () => {
  assertEquals(count("Check tests/a_test.ts\n", true), { passed: 0, failed: 1 });
});

Deno.test("steps and nested output lines are not counted as tests", () => {
  const out = [
    "running 1 test from ./x_test.ts",
    "outer ...",
    "  inner ... ok (1ms)",
    "  other ... FAILED (1ms)",
    "outer ... FAILED (due to 1 failed step) (5ms)",
  ].join("\n");
  assertEquals(count(out, true), { passed: 0, failed: 1 });
});

Deno.test("the plan checks once, runs unit files together and each tests/ file alone", () => {
  const pieces = planPieces(["shared/a_test.ts", "tests/x_test.ts", "batch/b_test.ts"]);
  assertEquals(pieces.map((p) => [p.command ?? "test", p.args]), [
    ["check", ["shared/a_test.ts", "tests/x_test.ts", "batch/b_test.ts"]],
    ["test", ["--no-check", "shared/a_test.ts", "batch/b_test.ts"]],
    ["test", ["--no-check", "tests/x_test.ts"]],
  ]);
});

Deno.test("test files are found as deno test finds them, outside dependency and state folders", async () => {
  const files = await findTestFiles();
  assertEquals(files.includes("tests/run_test.ts"), true);
  assertEquals(files.includes("shared/config_test.ts"), true);
  assertEquals(files.some((f) => f.startsWith("node_modules/") || f.includes("/.state/")), false);
  assertEquals(files.includes("tests/run.ts"), false);
});
