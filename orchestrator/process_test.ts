import assert from "node:assert/strict";
import { denoSpawner, failureSummary } from "./process.ts";

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

Deno.test("a child's output is forwarded line by line and its exit code reported", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const spawner = denoSpawner({ stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  const child = spawner.spawn({
    command: Deno.execPath(),
    args: [
      "eval",
      `console.log('{"level":"info","msg":"one"}'); console.log("two\\nthree"); ` +
      `console.error("bad thing"); Deno.exit(3)`,
    ],
  });
  const exit = await child.exited;
  assert.deepEqual(exit, { code: 3, signal: null });
  assert.deepEqual(out, ['{"level":"info","msg":"one"}', "two", "three"]);
  assert.deepEqual(err, ["bad thing"]);
  assert.equal(failureSummary(child.tail()), "bad thing");
});

Deno.test("after a child exits nothing of its process group is left", async () => {
  const spawner = denoSpawner({ stdout: () => {}, stderr: () => {} });
  const child = spawner.spawn({
    command: "sh",
    args: ["-c", "sleep 300 & echo $! ; exec sleep 300"],
  });
  let grandchild = 0;
  while (grandchild === 0) {
    await new Promise((r) => setTimeout(r, 10));
    grandchild = Number(child.tail().stdout[0] ?? 0);
  }
  assert.ok(alive(grandchild));
  child.signal("SIGTERM"); // the leader dies; its background sleep would live on
  const exit = await child.exited;
  assert.equal(exit.signal, "SIGTERM");
  for (let i = 0; i < 500 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(!alive(grandchild), `grandchild ${grandchild} still running`);
});

Deno.test("killGroup kills a child that ignores SIGTERM", async () => {
  const spawner = denoSpawner({ stdout: () => {}, stderr: () => {} });
  const child = spawner.spawn({
    command: "sh",
    args: ["-c", "trap '' TERM; echo ready; sleep 300"],
  });
  while (child.tail().stdout.length === 0) await new Promise((r) => setTimeout(r, 10));
  child.signal("SIGTERM");
  child.killGroup();
  assert.equal((await child.exited).signal, "SIGKILL");
});

Deno.test("the failure summary skips deno task's banner and falls back to error log lines", () => {
  assert.equal(
    failureSummary({ stdout: [], stderr: ["Task batch deno run -A batch/main.ts", ""] }),
    undefined,
  );
  assert.equal(
    failureSummary({
      stdout: [
        '{"level":"info","msg":"started"}',
        '{"level":"error","msg":"batch failed","error":{"message":"no space left"}}',
        "plain text",
      ],
      stderr: ["Task batch deno run -A batch/main.ts"],
    }),
    "batch failed: no space left",
  );
});
