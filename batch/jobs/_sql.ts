/**
 * @module
 * Small SQL helpers shared by the batch jobs.
 */

/** A SQL string literal. */
export function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Events of the rows of `ev` (optionally those matching `cond`) as BIGINT: a row stands for `n`
 * events (batch/source.ts {@link GRAIN_TOPICS}: the biggest topics are loaded as one row per
 * distinct value of the columns the views read).
 */
export function events(cond?: string): string {
  return cond ? `coalesce(sum(n) FILTER (WHERE ${cond}), 0)::BIGINT` : total("n");
}

/** The sum of an integer column as BIGINT, 0 over no rows (a grain table's per-action counts). */
export function total(column: string): string {
  return `coalesce(sum(${column}), 0)::BIGINT`;
}

/** `count(*) FILTER (WHERE cond)` as BIGINT. */
export function countIf(cond: string): string {
  return `count(*) FILTER (WHERE ${cond})`;
}

/**
 * Sum of a DOUBLE expression that does not depend on row order (DuckDB adds doubles in parallel,
 * in varying order, so re-runs could differ in the last bit): each value is taken as
 * DECIMAL(38, 12) (exact for up to 12 decimals, else within 5e-13) and added exactly; 0 when
 * there is nothing to add.
 */
export function orderedSum(expr: string): string {
  return `coalesce(sum((${expr})::DECIMAL(38, 12)), 0)::DOUBLE`;
}

/** Percent of a graded assessment, computed like the speed layer: 100 · score / max_score. */
export const PERCENT = "(100.0::DOUBLE * score / max_score)";
