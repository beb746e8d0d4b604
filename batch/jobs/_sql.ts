/**
 * @module
 * Small SQL helpers shared by the batch jobs.
 */

/** A SQL string literal. */
export function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `count(*) FILTER (WHERE cond)` as BIGINT. */
export function countIf(cond: string): string {
  return `count(*) FILTER (WHERE ${cond})`;
}

/**
 * Sum of a DOUBLE column that does not depend on row order (DuckDB sums DOUBLE in parallel, in
 * varying order): summed as DECIMAL(38, 9), exact for values with up to 9 decimals.
 */
export function exactSum(expr: string): string {
  return `coalesce(sum((${expr})::DECIMAL(38, 9)), 0)::DOUBLE`;
}

/** Percent of a graded assessment, computed like the speed layer: 100 · score / max_score. */
export const PERCENT = "(100.0::DOUBLE * score / max_score)";
