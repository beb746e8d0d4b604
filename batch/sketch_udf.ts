/**
 * @module
 * DuckDB scalar functions that build the shared sketches in TypeScript, so batch views carry the
 * same bytes as the realtime rows (shared/sketch): `hll_sketch(VARCHAR[]) → BLOB` (DistinctSketch
 * of the non-NULL values) and `dd_sketch(DOUBLE[]) → BLOB` (QuantileSketch of the non-NULL
 * values). A NULL list gives the empty sketch.
 */
import {
  BLOB,
  DOUBLE,
  DuckDBBlobValue,
  type DuckDBConnection,
  type DuckDBListVector,
  DuckDBScalarFunction,
  LIST,
  VARCHAR,
} from "@duckdb/node-api";
import { DistinctSketch } from "../shared/sketch/hll.ts";
import { QuantileSketch } from "../shared/sketch/quantile.ts";

function listFunction<T>(
  name: string,
  itemType: typeof VARCHAR | typeof DOUBLE,
  build: (items: T[]) => Uint8Array,
): DuckDBScalarFunction {
  return DuckDBScalarFunction.create({
    name,
    returnType: BLOB,
    parameterTypes: [LIST(itemType)],
    specialHandling: true, // NULL input reaches us (→ empty sketch)
    mainFunction: (_info, input, output) => {
      const lists = input.getColumnVector(0) as DuckDBListVector;
      const items: T[] = [];
      for (let i = 0; i < input.rowCount; i++) {
        items.length = 0;
        // null for a NULL list (whose entry offset and length are undefined memory)
        const list = lists.getItemVector(i);
        if (list) {
          for (let j = 0; j < list.itemCount; j++) {
            const v = list.getItem(j);
            if (v !== null) items.push(v as T);
          }
        }
        output.setItem(i, new DuckDBBlobValue(build(items)));
      }
      output.flush();
    },
  });
}

/** Registers `hll_sketch` and `dd_sketch` on a connection. */
export function registerSketchFunctions(conn: DuckDBConnection): void {
  conn.registerScalarFunction(
    listFunction<string>("hll_sketch", VARCHAR, (xs) => DistinctSketch.of(xs).serialize()),
  );
  conn.registerScalarFunction(
    listFunction<number>("dd_sketch", DOUBLE, (xs) => QuantileSketch.of(xs).serialize()),
  );
}
