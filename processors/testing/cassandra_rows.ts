/**
 * @module
 * Reads realtime tables back from Cassandra as plain rows (times as epoch ms, bigints as numbers,
 * blobs as bytes, sets and lists as arrays), for comparisons in tests and benchmarks.
 */
import type { Client } from "cassandra-driver";
import { columnsOf, type TableSpec } from "../store/tables.ts";
import type { PlainRow } from "./reference_check.ts";

function plain(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "timestamp":
      return (v as Date).getTime();
    case "bigint":
    case "int":
    case "double":
      return Number(v);
    case "blob": {
      const b = v as Uint8Array;
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    case "set<text>":
    case "frozen<list<text>>":
      return [...(v as Iterable<string>)];
    default:
      return v;
  }
}

/** Every row of a table in the client's keyspace. */
export async function readTable(client: Client, table: TableSpec): Promise<PlainRow[]> {
  const cols = columnsOf(table);
  const rs = await client.execute(
    `SELECT ${cols.map((c) => `"${c.name}"`).join(", ")} FROM ${table.name}`,
    [],
    { prepare: true, fetchSize: 5000 },
  );
  const out: PlainRow[] = [];
  for await (const r of rs) {
    const row: PlainRow = {};
    for (const c of cols) row[c.name] = plain(r.get(c.name), c.type);
    out.push(row);
  }
  return out;
}
