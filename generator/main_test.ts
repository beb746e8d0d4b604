import assert from "node:assert/strict";
import { generate } from "./generate.ts";
import { readJsonl } from "./jsonl.ts";

Deno.test("deno task generate --no-kafka writes the records generate() gives for the same options", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./main.ts", import.meta.url).pathname,
        "--seed=21",
        "--users=60",
        "--from=2026-11-01",
        "--to=2026-11-01T02:00:00Z",
        "--count=3000",
        "--malformed-share=0",
        `--jsonl=${path}`,
        "--no-kafka",
      ],
      env: { LOG_LEVEL: "warn" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const start = Date.parse("2026-11-01T00:00:00Z");
    const expected = [
      ...generate({
        seed: 21,
        users: 60,
        startMs: start,
        endMs: start + 7_200_000,
        totalEvents: 3000,
        malformedShare: 0,
        partitions: 6,
      }),
    ];
    assert.deepEqual(await readJsonl(path), expected);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("deno task generate refuses bad flags with a message naming the flag", async () => {
  for (
    const [args, re] of [[["--count=-3"], /--count/], [["--from=2026-01-01"], /--from and --to/], [[
      "--nope",
    ], /nope/]] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./main.ts", import.meta.url).pathname, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2);
    assert.match(new TextDecoder().decode(out.stderr), re);
  }
});
