import assert from "node:assert/strict";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import * as pw from "parquet-wasm";
import { lowerBound, ViewFile } from "./view_file.ts";

function parquetOf(keys: string[], rowGroupSize: number): Uint8Array {
  const table = tableFromArrays({
    user_id: keys,
    n: Float64Array.from(keys.map((_, i) => i)),
  });
  const props = new pw.WriterPropertiesBuilder().setMaxRowGroupSize(rowGroupSize)
    .setDictionaryEnabled(false).build();
  return pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, "stream")), props);
}

// 30 keys × 10 rows, sorted; row groups of 64 rows, so keys span row-group boundaries.
const KEYS = Array.from(
  { length: 300 },
  (_, i) => `k${String(Math.floor(i / 10)).padStart(3, "0")}`,
);

Deno.test("the key index selects only the row groups whose key range holds the key", async () => {
  const file = await ViewFile.fromBytes("mem", parquetOf(KEYS, 64), "user_id");
  assert.deepEqual(file.rowGroups.map((g) => g.rows), [64, 64, 64, 64, 44]);
  assert.deepEqual(file.rowGroupsFor("k000").map((g) => g.index), [0]);
  // k006 has rows 60..69: the end of group 0 and the start of group 1.
  assert.deepEqual(file.rowGroupsFor("k006").map((g) => g.index), [0, 1]);
  assert.deepEqual(file.rowGroupsFor("k029").map((g) => g.index), [4]);
  assert.deepEqual(file.rowGroupsFor("k0065").map((g) => g.index), [1], "between keys: one group");
  assert.deepEqual(file.rowGroupsFor("a").map((g) => g.index), [], "before every key: none");
  assert.deepEqual(file.rowGroupsFor("z").map((g) => g.index), []);
});

Deno.test("reading selected row groups returns exactly their rows, in file order", async () => {
  const file = await ViewFile.fromBytes("mem", parquetOf(KEYS, 64), "user_id");
  const t = file.read([3, 1]);
  assert.equal(t.numRows, 128);
  assert.equal(t.getChild("n")!.get(0), 64);
  assert.equal(t.getChild("n")!.get(64), 192);
  const at = lowerBound(t, "user_id", "k020");
  assert.equal(t.getChild("user_id")!.get(at), "k020");
  assert.equal(t.getChild("n")!.get(at), 200);
});

Deno.test("a file not sorted by its key column is refused", async () => {
  const shuffled = [...KEYS].reverse();
  await assert.rejects(
    () => ViewFile.fromBytes("mem", parquetOf(shuffled, 64), "user_id"),
    /not sorted/,
  );
});
