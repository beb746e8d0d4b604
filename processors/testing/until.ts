/**
 * @module
 * Polling for tests against real servers: wait until a probe answers, with a generous deadline
 * (these waits do not time anything).
 */

/** Options of {@link until}. */
export interface UntilOptions {
  /** Give up after this long; default 120000 ms. */
  timeoutMs?: number;
  /** Pause between probes; default 200 ms. */
  intervalMs?: number;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Calls `probe` until it returns something other than `undefined`, and returns that.
 * @param what named in the error when the deadline passes
 * @throws {Error} `gave up waiting for <what>` after `timeoutMs`
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: UntilOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(options.intervalMs ?? 200);
  }
}
