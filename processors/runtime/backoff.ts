/**
 * @module
 * Capped exponential backoff for retrying writes while Cassandra (or Kafka) is unavailable.
 */

/** Options of {@link backoffDelay}. */
export interface BackoffOptions {
  /** First delay; default 200 ms. */
  initialMs?: number;
  /** Largest delay; default 10000 ms. */
  maxMs?: number;
  /** Random share of each delay in [0, 1) (spreads replicas' retries); default 0.2. */
  jitter?: number;
  /** Random source in [0, 1); default `Math.random`. */
  random?: () => number;
}

/**
 * The delay before retry number `attempt` (0-based): `initialMs · 2^attempt`, capped at `maxMs`,
 * minus up to `jitter` of it.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 200;
  const max = options.maxMs ?? 10_000;
  const jitter = options.jitter ?? 0.2;
  if (!(initial > 0) || !(max >= initial)) {
    throw new RangeError(`Invalid backoff: need 0 < initialMs <= maxMs, got ${initial}, ${max}`);
  }
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - jitter * (options.random ?? Math.random)()));
}
