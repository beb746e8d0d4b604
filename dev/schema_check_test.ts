import assert from "node:assert/strict";
import { schemaColumns } from "./schema_check.ts";

Deno.test("schemaColumns lists every column of every table, quoted names unquoted", async () => {
  const cql = await Deno.readTextFile(new URL("../infra/schema.cql", import.meta.url));
  const cols = schemaColumns(cql, "ks");
  assert.deepEqual(cols.get("late_events"), ["view", "hour", "topic", "kpart", "late"]);
  assert.deepEqual(cols.get("realtime_video_views"), [
    "video_id",
    "minute",
    "kpart",
    "plays",
    "pauses",
    "completes",
    "watch_seconds",
    "unique_viewers",
  ]);
  assert.ok(cols.get("stream_checkpoints")!.includes("replay_max_event_time"));
  assert.ok(!cols.has("ks"), "the keyspace statement is not a table");
});

Deno.test("schemaColumns reads a hand-written table with a composite key", () => {
  const cols = schemaColumns(
    `CREATE KEYSPACE IF NOT EXISTS {{keyspace}} WITH replication = {'class': 'SimpleStrategy'};
CREATE TABLE IF NOT EXISTS {{keyspace}}.t (
  a text,
  "b" bigint,
  c map<text, text>,
  PRIMARY KEY ((a), "b")
);`,
    "ks",
  );
  assert.deepEqual([...cols], [["t", ["a", "b", "c"]]]);
});
