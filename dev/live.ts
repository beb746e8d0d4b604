/**
 * @module
 * Live generated traffic for `deno task dev`: the generator's records from now on (malformed
 * records, duplicates, out-of-order and late arrivals included), produced to Kafka at their arrival
 * times, so the speed layer sees a steady stream of a few hundred events per second.
 */
import type { ResolvedConfig } from "../shared/config.ts";
import { generate } from "../generator/generate.ts";
import type { Population } from "../generator/population.ts";
import { produceRecords, type ProduceResult } from "../generator/produce.ts";

/** Options of {@link runLive}. */
export interface LiveOptions {
  population: Population;
  seed: number;
  /** Records per second, averaged over a day (the generator follows the users' daily rhythm). */
  eventsPerSec: number;
  /** Partitions of the input topics. */
  partitions: number;
  /** Stops producing (the records sent so far stay sent). */
  signal: AbortSignal;
  /** Called after every produce request with the running total. */
  onProgress?: (sent: number) => void;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /**
   * The generator starts this long before now and what arrives before now is not produced, so
   * the stream starts at its usual rate instead of ramping up with the first sessions; default
   * 1200000 ms (20 minutes).
   */
  warmUpMs?: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Produces generated records from now on, each batch once its last record's arrival time has
 * come, until `signal` aborts.
 * @param cfg brokers and topic names
 */
export function runLive(
  cfg: Pick<ResolvedConfig, "kafkaBrokers" | "logLevel" | "topics">,
  opts: LiveOptions,
): Promise<ProduceResult> {
  const now = opts.now ?? Date.now;
  const start = now();
  const generated = generate({
    seed: opts.seed,
    population: opts.population,
    startMs: start - (opts.warmUpMs ?? 20 * 60_000),
    eventsPerSecond: opts.eventsPerSec,
    partitions: opts.partitions,
    cdcSnapshot: false,
    tooLarge: false, // the broker refuses > 1 MiB values anyway
  });
  function* records() {
    for (const r of generated) if (r.kafkaTs >= start) yield r;
  }
  return produceRecords(cfg, records(), {
    // About four requests per second whatever the rate.
    batchSize: Math.max(1, Math.round(opts.eventsPerSec / 4)),
    signal: opts.signal,
    beforeBatch: (batch) => sleep(batch[batch.length - 1].kafkaTs - now(), opts.signal),
    onProgress: (p) => opts.onProgress?.(p.sent),
  });
}
