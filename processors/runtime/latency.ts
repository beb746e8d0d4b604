/**
 * @module
 * Event-to-view latency: the Kafka timestamps of the events a flush covers, observed against the
 * time that flush's row writes completed.
 */
import { QuantileSketch } from "../../shared/sketch/quantile.ts";
import type { Histogram } from "../../shared/metrics.ts";

/** The Kafka timestamps of one flush. */
export type Epoch = number[];

/** Collects timestamps per flush and records latencies when flushes complete. */
export class LatencyTracker {
  #current: Epoch = [];
  #histogram: Histogram | undefined;
  #sketch = QuantileSketch.empty();
  #max = 0;

  constructor(histogram?: Histogram) {
    this.#histogram = histogram;
  }

  /** An event (Kafka timestamp) applied to realtime views, to be written by the next flush. */
  mark(kafkaTs: number): void {
    this.#current.push(kafkaTs);
  }

  /** Ends the current flush's collection. */
  seal(): Epoch {
    const e = this.#current;
    this.#current = [];
    return e;
  }

  /** Records the latencies of a flush whose rows were written at `doneAt`. */
  complete(epoch: Epoch, doneAt: number): void {
    const h = this.#histogram;
    for (let i = 0; i < epoch.length; i++) {
      const ms = Math.max(0, doneAt - epoch[i]);
      h?.observe({}, ms / 1000);
      this.#sketch.add(ms);
      if (ms > this.#max) this.#max = ms;
    }
  }

  /** Latency quantiles so far in ms (DDSketch, 1 % relative error), null when none. */
  quantiles(): { count: number; p50: number | null; p99: number | null; max: number } {
    return {
      count: this.#sketch.count,
      p50: this.#sketch.quantile(0.5),
      p99: this.#sketch.quantile(0.99),
      max: this.#max,
    };
  }

  /** Forgets the recorded latencies (e.g. after a warm-up). */
  reset(): void {
    this.#sketch = QuantileSketch.empty();
    this.#max = 0;
  }
}
