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
  return cond
    ? `coalesce(sum(n) FILTER (WHERE ${cond}), 0)::BIGINT`
    : `coalesce(sum(n), 0)::BIGINT`;
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

/**
 * The exact sum (DECIMAL(38, 12)) of `column` (DOUBLE) over the rows matching `cond`, each value
 * taken as DECIMAL(38, 12) like {@link orderedSum}; 0 without any. Values of at most 3 decimals below
 * 1000 in magnitude (`column * 1000` is integral: watched seconds, scores) are added as BIGINT
 * thousandths, which is cheaper than DECIMAL(38, 12) and gives the same value (for |x| < 1000 the
 * double nearest to k/1000 converts to exactly k/1000 at 12 decimals); the others as
 * DECIMAL(38, 12).
 */
export function exactSum(column: string, cond: string): string {
  const milli = `abs(${column}) < 1000 AND ${column} * 1000 = round(${column} * 1000)`;
  return `(CAST(coalesce(sum(CAST(round(${column} * 1000) AS INTEGER))
      FILTER (WHERE ${cond} AND ${milli}), 0) AS DECIMAL(38, 0)) * CAST(0.001 AS DECIMAL(3, 3))
    + coalesce(sum(CAST(${column} AS DECIMAL(38, 12))) FILTER (WHERE ${cond} AND NOT (${milli})),
      0))`;
}
