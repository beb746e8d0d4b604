/**
 * @module
 * Mergeable sketches with deterministic bytes: distinct counts and quantiles.
 */
export { DistinctSketch, hash64, HASH_SEEDS, HLL_P, SPARSE_LIMIT } from "./hll.ts";
export { QuantileSketch, RELATIVE_ACCURACY } from "./quantile.ts";
