/**
 * @module
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4 (`Content-Type: text/plain; version=0.0.4`).
 *
 * Histogram quantiles are estimated from the buckets by linear interpolation inside the bucket that
 * holds the rank, exactly like PromQL's `histogram_quantile`: cheap and bounded in memory, accurate
 * to the bucket width. Exact percentiles belong in a {@link QuantileSketch}, not in metrics.
 *
 * @example
 * ```ts
 * import { Registry } from "./metrics.ts";
 * const registry = new Registry();
 * const dlq = registry.counter("events_dlq_total", "Events sent to the DLQ", ["topic", "reason"]);
 * dlq.inc({ topic: "video_topic", reason: "invalid_json" });
 * console.log(registry.render());
 * ```
 */

/** Label values by label name. */
export type Labels = Record<string, string | number | boolean>;

/** The content type of {@link Registry.render}. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge" | "histogram";

export interface Counter {
  readonly name: string;
  /** Adds `value` (default 1, must be ≥ 0). */
  inc(labels?: Labels, value?: number): void;
  get(labels?: Labels): number;
}

export interface Gauge {
  readonly name: string;
  set(labels: Labels, value: number): void;
  inc(labels?: Labels, value?: number): void;
  dec(labels?: Labels, value?: number): void;
  get(labels?: Labels): number;
}

/** A histogram's state for one label set. `buckets` are cumulative and end with `le: Infinity`. */
export interface HistogramSnapshot {
  count: number;
  sum: number;
  buckets: { le: number; count: number }[];
  /** Estimated value at quantile `q` ∈ [0, 1] (PromQL rule); null when empty. */
  quantile(q: number): number | null;
}

export interface Histogram {
  readonly name: string;
  readonly buckets: readonly number[];
  observe(labels: Labels, value: number): void;
  snapshot(labels?: Labels): HistogramSnapshot;
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Default latency buckets in seconds (Prometheus client defaults). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Formats a sample value as Prometheus expects (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Number.isNaN(v)) return "NaN";
  return String(v);
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

interface Family {
  type: MetricType;
  name: string;
  help: string;
  labelNames: readonly string[];
  metric: Counter | Gauge | Histogram;
  /** Sample lines, without HELP/TYPE. */
  lines(): string[];
}

/** Label set → series key and rendered `{a="x",b="y"}` text, checking names. */
class LabelCodec {
  readonly #metric: string;
  readonly #names: readonly string[];

  constructor(metric: string, names: readonly string[]) {
    this.#metric = metric;
    this.#names = names;
  }

  /** A stable key of the label values (also the rendered form, without braces). */
  key(labels: Labels | undefined): string {
    if (labels) {
      for (const k in labels) {
        if (!this.#names.includes(k)) {
          throw new RangeError(`Metric ${this.#metric}: unknown label "${k}"`);
        }
      }
    }
    if (this.#names.length === 0) return "";
    return this.#names.map((n) => `${n}="${escapeLabelValue(String(labels?.[n] ?? ""))}"`).join(
      ",",
    );
  }

  static braces(key: string, extra?: string): string {
    const all = [key, extra].filter((s) => s).join(",");
    return all ? `{${all}}` : "";
  }
}

function checkValue(metric: string, value: number): void {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new RangeError(`Metric ${metric}: value must be a number, got ${value}`);
  }
}

function createCounter(name: string, codec: LabelCodec): Counter & { lines(): string[] } {
  const values = new Map<string, number>();
  return {
    name,
    inc(labels, value = 1) {
      checkValue(name, value);
      if (value < 0) throw new RangeError(`Counter ${name}: cannot decrease (inc by ${value})`);
      const k = codec.key(labels);
      values.set(k, (values.get(k) ?? 0) + value);
    },
    get: (labels) => values.get(codec.key(labels)) ?? 0,
    lines: () => [...values].map(([k, v]) => `${name}${LabelCodec.braces(k)} ${formatValue(v)}`),
  };
}

function createGauge(name: string, codec: LabelCodec): Gauge & { lines(): string[] } {
  const values = new Map<string, number>();
  function add(labels: Labels | undefined, value: number): void {
    checkValue(name, value);
    const k = codec.key(labels);
    values.set(k, (values.get(k) ?? 0) + value);
  }
  return {
    name,
    set(labels, value) {
      checkValue(name, value);
      values.set(codec.key(labels), value);
    },
    inc: (labels, value = 1) => add(labels, value),
    dec: (labels, value = 1) => add(labels, -value),
    get: (labels) => values.get(codec.key(labels)) ?? 0,
    lines: () => [...values].map(([k, v]) => `${name}${LabelCodec.braces(k)} ${formatValue(v)}`),
  };
}

interface HistogramSeries {
  counts: number[]; // per bucket, not cumulative; last is +Inf
  sum: number;
  count: number;
}

/** PromQL `histogram_quantile` over cumulative buckets. */
export function bucketQuantile(
  q: number,
  buckets: readonly { le: number; count: number }[],
): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`Quantile must be in [0, 1], got ${q}`);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let i = buckets.findIndex((b) => b.count >= rank);
  if (i < 0) i = buckets.length - 1;
  const upper = buckets[i].le;
  if (upper === Infinity) return buckets.length > 1 ? buckets[buckets.length - 2].le : null;
  const lower = i === 0 ? Math.min(0, upper) : buckets[i - 1].le;
  const below = i === 0 ? 0 : buckets[i - 1].count;
  const inBucket = buckets[i].count - below;
  if (inBucket === 0) return upper;
  return lower + (upper - lower) * ((rank - below) / inBucket);
}

function createHistogram(
  name: string,
  codec: LabelCodec,
  bounds: readonly number[],
): Histogram & { lines(): string[] } {
  const series = new Map<string, HistogramSeries>();
  function snapshotOf(s: HistogramSeries | undefined): HistogramSnapshot {
    let acc = 0;
    const buckets = [...bounds, Infinity].map((le, i) => {
      acc += s?.counts[i] ?? 0;
      return { le, count: acc };
    });
    return {
      count: s?.count ?? 0,
      sum: s?.sum ?? 0,
      buckets,
      quantile: (q) => bucketQuantile(q, buckets),
    };
  }
  return {
    name,
    buckets: bounds,
    observe(labels, value) {
      checkValue(name, value);
      const k = codec.key(labels);
      let s = series.get(k);
      if (!s) series.set(k, s = { counts: new Array(bounds.length + 1).fill(0), sum: 0, count: 0 });
      let i = 0;
      while (i < bounds.length && value > bounds[i]) i++;
      s.counts[i]++;
      s.sum += value;
      s.count++;
    },
    snapshot: (labels) => snapshotOf(series.get(codec.key(labels))),
    lines() {
      const out: string[] = [];
      for (const [k, s] of series) {
        for (const b of snapshotOf(s).buckets) {
          const le = `le="${formatValue(b.le)}"`;
          out.push(`${name}_bucket${LabelCodec.braces(k, le)} ${b.count}`);
        }
        out.push(`${name}_sum${LabelCodec.braces(k)} ${formatValue(s.sum)}`);
        out.push(`${name}_count${LabelCodec.braces(k)} ${s.count}`);
      }
      return out;
    },
  };
}

/**
 * A set of metric families. Registering a name again returns the existing metric when type and
 * label names match, and throws a TypeError otherwise.
 */
export class Registry {
  readonly #families = new Map<string, Family>();
  readonly #collectors: (() => void)[] = [];

  /** A monotonically increasing counter. Prometheus convention: name ends in `_total`. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#register("counter", name, help, labelNames, (codec) => createCounter(name, codec))
      .metric as Counter;
  }

  /** A value that can go up and down. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#register("gauge", name, help, labelNames, (codec) => createGauge(name, codec))
      .metric as Gauge;
  }

  /**
   * A histogram with the given upper bounds (sorted ascending; `+Inf` is implicit).
   * @throws {RangeError} when the buckets are empty, unsorted or not finite
   */
  histogram(
    name: string,
    help: string,
    buckets: readonly number[] = DEFAULT_BUCKETS,
    labelNames: readonly string[] = [],
  ): Histogram {
    const bounds = buckets.filter((b) => b !== Infinity);
    if (
      bounds.length === 0 ||
      bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]))
    ) {
      throw new RangeError(`Histogram ${name}: buckets must be finite and strictly increasing`);
    }
    if (labelNames.includes("le")) {
      throw new RangeError(`Histogram ${name}: label "le" is reserved`);
    }
    const family = this.#register(
      "histogram",
      name,
      help,
      labelNames,
      (codec) => createHistogram(name, codec, bounds),
    );
    const existing = (family.metric as Histogram).buckets;
    if (existing.length !== bounds.length || existing.some((b, i) => b !== bounds[i])) {
      throw new TypeError(`Histogram ${name} is already registered with other buckets`);
    }
    return family.metric as Histogram;
  }

  /** Runs `collect` at the start of every {@link render}, e.g. to refresh gauges. */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /** The metric registered under `name`, if any. */
  get(name: string): Counter | Gauge | Histogram | undefined {
    return this.#families.get(name)?.metric;
  }

  /** Every family in the text exposition format 0.0.4, in registration order. */
  render(): string {
    for (const collect of this.#collectors) collect();
    const out: string[] = [];
    for (const f of this.#families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
      out.push(...f.lines());
    }
    return out.length ? out.join("\n") + "\n" : "";
  }

  #register(
    type: MetricType,
    name: string,
    help: string,
    labelNames: readonly string[],
    make: (codec: LabelCodec) => Family["metric"] & { lines(): string[] },
  ): Family {
    const existing = this.#families.get(name);
    if (existing) {
      if (existing.type !== type) {
        throw new TypeError(`Metric ${name} is already registered as a ${existing.type}`);
      }
      if (existing.labelNames.join(",") !== labelNames.join(",")) {
        throw new TypeError(
          `Metric ${name} is already registered with labels [${existing.labelNames.join(", ")}]`,
        );
      }
      return existing;
    }
    if (!NAME_RE.test(name)) throw new RangeError(`Invalid metric name: ${JSON.stringify(name)}`);
    for (const l of labelNames) {
      if (!LABEL_RE.test(l) || l.startsWith("__")) {
        throw new RangeError(`Metric ${name}: invalid label name ${JSON.stringify(l)}`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) {
      throw new RangeError(`Metric ${name}: duplicate label names`);
    }
    const metric = make(new LabelCodec(name, labelNames));
    const family: Family = {
      type,
      name,
      help,
      labelNames: [...labelNames],
      metric,
      lines: () => metric.lines(),
    };
    this.#families.set(name, family);
    return family;
  }
}

/**
 * Adds `process_resident_memory_bytes` and `process_uptime_seconds` gauges, refreshed on every
 * render.
 * @param registry where to register them
 * @param options `now` (default `performance.now`, ms since the process started)
 */
export function processMetrics(
  registry: Registry,
  options: { now?: () => number; rss?: () => number } = {},
): void {
  const now = options.now ?? (() => performance.now());
  const rss = options.rss ?? (() => Deno.memoryUsage().rss);
  const memory = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  const uptime = registry.gauge("process_uptime_seconds", "Seconds since the process started.");
  registry.onCollect(function refreshProcessMetrics() {
    memory.set({}, rss());
    uptime.set({}, now() / 1000);
  });
}
