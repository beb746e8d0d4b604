import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import { partitionFor } from "./_partition.ts";
import { Rng } from "./_rng.ts";

Deno.test("partitionFor agrees with the kafkajs default partitioner", () => {
  const rng = new Rng(7);
  for (const n of [1, 3, 6, 12]) {
    const kafkajs = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from(
      { length: n },
      (_, i) => ({
        partitionId: i,
        leader: 0,
        replicas: [0],
        isr: [0],
        partitionErrorCode: 0,
        offlineReplicas: [],
      }),
    );
    const keys = [
      "",
      "a",
      "ab",
      "abc",
      "u000001",
      '{"id":"u000042"}',
      "é日本",
      "long-" + "x".repeat(97),
    ];
    for (let i = 0; i < 500; i++) keys.push(`u${rng.hex(rng.int(1, 20))}`);
    for (const key of keys) {
      const expected = kafkajs({ topic: "t", partitionMetadata, message: { key, value: "v" } });
      assert.equal(partitionFor(key, n), expected, `key ${JSON.stringify(key)} n=${n}`);
    }
  }
});
