import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { DistinctSketch } from "../shared/sketch/hll.ts";
import { QuantileSketch } from "../shared/sketch/quantile.ts";
import { registerSketchFunctions } from "./sketch_udf.ts";

Deno.test("sketch functions give the same bytes as the TypeScript sketches, NULLs ignored", async () => {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    registerSketchFunctions(conn);
    const r = await conn.runAndReadAll(`
      SELECT g, hll_sketch(list(DISTINCT u)) AS h, dd_sketch(list(x)) AS d
      FROM (SELECT range % 3 AS g, CASE WHEN range % 7 = 0 THEN NULL ELSE 'u' || (range % 1500) END AS u,
        range / 10.0 AS x FROM range(6000)) GROUP BY g ORDER BY g`);
    const rows = r.getRowObjectsJS() as { g: bigint; h: Uint8Array; d: Uint8Array }[];
    for (const row of rows) {
      const g = Number(row.g);
      const users: string[] = [];
      const xs: number[] = [];
      for (let i = g; i < 6000; i += 3) {
        if (i % 7 !== 0) users.push(`u${i % 1500}`);
        xs.push(i / 10);
      }
      assertEquals(new Uint8Array(row.h), DistinctSketch.of(users).serialize());
      assertEquals(new Uint8Array(row.d), QuantileSketch.of(xs).serialize());
    }
    const e = await conn.runAndReadAll(
      "SELECT hll_sketch(NULL::VARCHAR[]) AS h, dd_sketch([]::DOUBLE[]) AS d",
    );
    const [row] = e.getRowObjectsJS() as { h: Uint8Array; d: Uint8Array }[];
    assertEquals(new Uint8Array(row.h), DistinctSketch.empty().serialize());
    assertEquals(new Uint8Array(row.d), QuantileSketch.empty().serialize());
  } finally {
    conn.closeSync();
    db.closeSync();
  }
});
