import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { schemaStatements } from "../../infra/schema.ts";
import { columnsOf, VIEW_TABLES } from "./tables.ts";
import { statementsFor } from "./cassandra_store.ts";
import { LATE_EVENTS, USER_ACTIVITY } from "./tables.ts";

interface ParsedTable {
  columns: Map<string, string>;
  partitionKey: string[];
  clustering: string[];
}

function parseSchema(cql: string): Map<string, ParsedTable> {
  const out = new Map<string, ParsedTable>();
  for (const stmt of schemaStatements(cql, "ks")) {
    const m = /^CREATE TABLE IF NOT EXISTS ks\.(\w+) \(([\s\S]*)\)$/.exec(stmt);
    if (!m) continue;
    const columns = new Map<string, string>();
    let partitionKey: string[] = [], clustering: string[] = [];
    for (const line of m[2].split("\n").map((l) => l.trim().replace(/,$/, "")).filter(Boolean)) {
      const pk = /^PRIMARY KEY \(\((.+?)\)(?:, (.+))?\)$/.exec(line);
      if (pk) {
        partitionKey = pk[1].split(",").map((s) => s.trim().replaceAll('"', ""));
        clustering = pk[2] ? pk[2].split(",").map((s) => s.trim().replaceAll('"', "")) : [];
        continue;
      }
      const [name, ...type] = line.split(/\s+/);
      columns.set(name.replaceAll('"', ""), type.join(" "));
    }
    out.set(m[1], { columns, partitionKey, clustering });
  }
  return out;
}

Deno.test("every realtime table the jobs write matches infra/schema.cql", async () => {
  const schema = parseSchema(
    await Deno.readTextFile(new URL("../../infra/schema.cql", import.meta.url)),
  );
  for (const t of VIEW_TABLES) {
    const s = schema.get(t.name);
    assertEquals(s !== undefined, true, `table ${t.name} missing from schema.cql`);
    assertEquals(t.partitionKey.map((c) => c.name), s!.partitionKey, `${t.name} partition key`);
    assertEquals(t.clustering.map((c) => c.name), s!.clustering, `${t.name} clustering`);
    assertEquals(
      new Map(columnsOf(t).map((c) => [c.name, c.type])),
      s!.columns,
      `${t.name} columns`,
    );
  }
});

Deno.test("statements quote column names (view is a CQL keyword) and carry TTL and timestamp", () => {
  const late = statementsFor(LATE_EVENTS);
  assertEquals(
    late.upsert,
    'INSERT INTO late_events ("view", "hour", "topic", "kpart", "late") VALUES (?, ?, ?, ?, ?) ' +
      "USING TTL ? AND TIMESTAMP ?",
  );
  assertEquals(
    statementsFor(USER_ACTIVITY).delete,
    'DELETE FROM realtime_user_activity USING TIMESTAMP ? WHERE "user_id" = ? AND "minute" = ? ' +
      'AND "kpart" = ? AND "topic" = ?',
  );
});
