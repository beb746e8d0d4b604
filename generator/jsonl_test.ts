import assert from "node:assert/strict";
import { generate } from "./generate.ts";
import { readJsonl, writeJsonl } from "./jsonl.ts";

Deno.test("records survive a JSONL round trip exactly, tombstones and large values included", async () => {
  const start = Date.parse("2026-11-20T00:00:00Z");
  const records = [
    ...generate({
      seed: 4,
      users: 50,
      startMs: start,
      endMs: start + 3_600_000,
      malformedShare: 0.2,
    }),
  ];
  assert.ok(
    records.some((r) => r.value === null) && records.some((r) => (r.value?.length ?? 0) > 1 << 20),
  );
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    assert.equal(await writeJsonl(records, path), records.length);
    assert.deepEqual(await readJsonl(path), records);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readJsonl names the line that is not a record", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(path, '{"topic":"AUTH","kafkaTs":1}\n\n{nope\n');
    await assert.rejects(() => readJsonl(path), /:3: not JSON/);
  } finally {
    await Deno.remove(path);
  }
});
