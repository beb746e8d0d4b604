/**
 * @module
 * A mergeable quantile sketch: DDSketch with relative accuracy 0.005, using the logarithmic index
 * mapping of `@datadog/sketches-js` and its rank rule, with a sparse store of our own.
 *
 * Contract: for `n` values, `quantile(q)` is within 1 % relative error (0.5 % by construction) of
 * the value at 0-based rank `floor(q·(n−1))` of the sorted values (rank computed in IEEE doubles,
 * as `Math.floor(q * (n - 1))`). Zeros are counted exactly (a rank that falls on a zero returns
 * exactly 0), negative values are supported, and results are clamped to `[min, max]`, so
 * `quantile(0)` is the minimum and `quantile(1)` the maximum.
 *
 * Why not the library's store: its `DenseStore` layout (offset, chunk growth) depends on insertion
 * order, so `toProto()` bytes differ for equal data, `merge()` ignores negative values, and
 * `fromProto()` loses min and max. Here the state is a multiset of bin counts plus min and max, so
 * equal multisets of values give byte-identical {@link QuantileSketch.serialize} output whatever
 * the order of adds and merges.
 *
 * Serialised form: `[version 1]`, varint zero count, varint positive-bin count then per bin
 * (ascending key) zig-zag varint key delta and varint count, the same for negative bins, and when
 * non-empty float64 min and max (big-endian).
 *
 * @example
 * ```ts
 * import { QuantileSketch } from "./quantile.ts";
 * const s = new QuantileSketch();
 * for (const v of [10, 20, 30, 40]) s.add(v);
 * s.quantile(0.5); // ≈ 20 (rank floor(0.5 · 3) = 1)
 * ```
 */
import { DDSketch } from "@datadog/sketches-js";

/** Relative accuracy of the index mapping. */
export const RELATIVE_ACCURACY = 0.005;

const mapping = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }).mapping;
const VERSION = 1;

type Bins = Map<number, number>;

function sortedKeys(bins: Bins): number[] {
  return [...bins.keys()].sort((a, b) => a - b);
}

/** The key at `rank` in ascending keys (library `DenseStore.keyAtRank`). */
function keyAtRank(bins: Bins, keys: number[], rank: number, lower: boolean): number {
  let running = 0;
  for (const k of keys) {
    running += bins.get(k)!;
    if ((lower && running > rank) || (!lower && running >= rank + 1)) return k;
  }
  return keys[keys.length - 1];
}

function addBins(into: Bins, from: Bins): void {
  for (const [k, c] of from) into.set(k, (into.get(k) ?? 0) + c);
}

function binTotal(bins: Bins): number {
  let n = 0;
  for (const c of bins.values()) n += c;
  return n;
}

/** Byte writer for unsigned varints (up to 2^53) and float64. */
class Writer {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #at = 0;

  uvarint(n: number): void {
    this.#room(8);
    while (n >= 0x80) {
      this.#bytes[this.#at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#bytes[this.#at++] = n;
  }

  svarint(n: number): void {
    this.uvarint(n >= 0 ? 2 * n : -2 * n - 1);
  }

  float64(v: number): void {
    this.#room(8);
    this.#view.setFloat64(this.#at, v);
    this.#at += 8;
  }

  byte(b: number): void {
    this.#room(1);
    this.#bytes[this.#at++] = b;
  }

  done(): Uint8Array {
    return this.#bytes.slice(0, this.#at);
  }

  #room(n: number): void {
    if (this.#at + n <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#at + n));
    grown.set(this.#bytes);
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }
}

class Reader {
  #bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get done(): boolean {
    return this.#at === this.#bytes.length;
  }

  byte(): number {
    if (this.#at >= this.#bytes.length) throw new RangeError("truncated");
    return this.#bytes[this.#at++];
  }

  uvarint(): number {
    let n = 0;
    for (let scale = 1;; scale *= 0x80) {
      if (scale > 2 ** 49) throw new RangeError("varint too long");
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
    }
  }

  svarint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  float64(): number {
    if (this.#at + 8 > this.#bytes.length) throw new RangeError("truncated");
    const v = new DataView(this.#bytes.buffer, this.#bytes.byteOffset + this.#at, 8).getFloat64(0);
    this.#at += 8;
    return v;
  }
}

function writeBins(w: Writer, bins: Bins, keys: number[]): void {
  w.uvarint(keys.length);
  let prev = 0;
  for (const k of keys) {
    w.svarint(k - prev);
    w.uvarint(bins.get(k)!);
    prev = k;
  }
}

function readBins(r: Reader): Bins {
  const bins: Bins = new Map();
  const n = r.uvarint();
  let key = 0;
  for (let i = 0; i < n; i++) {
    const delta = r.svarint();
    if (i > 0 && delta <= 0) throw new RangeError("bin keys not ascending");
    key += delta;
    const c = r.uvarint();
    if (c === 0) throw new RangeError("empty bin");
    bins.set(key, c);
  }
  return bins;
}

/** DDSketch quantiles with deterministic bytes; mutable, `merge` is commutative and associative. */
export class QuantileSketch {
  #pos: Bins = new Map();
  #neg: Bins = new Map();
  #zero = 0;
  #count = 0;
  #min = Infinity;
  #max = -Infinity;
  #posKeys: number[] | null = [];
  #negKeys: number[] | null = [];

  /** A sketch of no values. */
  static empty(): QuantileSketch {
    return new QuantileSketch();
  }

  /** A sketch of the given values. */
  static of(values: Iterable<number>): QuantileSketch {
    const s = new QuantileSketch();
    for (const v of values) s.add(v);
    return s;
  }

  /** The union of several sketches (none of them is changed). */
  static union(sketches: Iterable<QuantileSketch>): QuantileSketch {
    const out = new QuantileSketch();
    for (const s of sketches) out.merge(s);
    return out;
  }

  /** Number of values added. */
  get count(): number {
    return this.#count;
  }

  /** Smallest value added (exact), null when empty. */
  get min(): number | null {
    return this.#count === 0 ? null : this.#min;
  }

  /** Largest value added (exact), null when empty. */
  get max(): number | null {
    return this.#count === 0 ? null : this.#max;
  }

  /**
   * Adds a value.
   * @throws {RangeError} when `v` is not finite or beyond ±1.78e308 (`Number.MAX_VALUE` / γ)
   */
  add(v: number): this {
    if (typeof v !== "number" || !Number.isFinite(v) || Math.abs(v) > mapping.maxPossible) {
      throw new RangeError(`Cannot add ${v} to a QuantileSketch: expected a finite number`);
    }
    if (v > mapping.minPossible) this.#bump(this.#pos, mapping.key(v), true);
    else if (v < -mapping.minPossible) this.#bump(this.#neg, mapping.key(-v), false);
    else this.#zero++;
    this.#count++;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
    return this;
  }

  /** Adds every value of `other` to this sketch and returns this sketch. */
  merge(other: QuantileSketch): this {
    if (other.#count === 0) return this;
    if (other === this) return this.merge(other.clone());
    addBins(this.#pos, other.#pos);
    addBins(this.#neg, other.#neg);
    this.#posKeys = this.#negKeys = null;
    this.#zero += other.#zero;
    this.#count += other.#count;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) this.#max = other.#max;
    return this;
  }

  /**
   * The value at rank `floor(q·(n−1))` within 1 % relative error; null when empty.
   * @param q quantile in [0, 1]
   * @throws {RangeError} when `q` is outside [0, 1]
   */
  quantile(q: number): number | null {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`Quantile must be in [0, 1], got ${q}`);
    if (this.#count === 0) return null;
    if (q === 0) return this.#min;
    if (q === 1) return this.#max;
    const rank = q * (this.#count - 1);
    const negCount = this.#count - this.#zero - binTotal(this.#pos);
    let value: number;
    if (rank < negCount) {
      this.#negKeys ??= sortedKeys(this.#neg);
      value = -mapping.value(keyAtRank(this.#neg, this.#negKeys, negCount - rank - 1, false));
    } else if (rank < negCount + this.#zero) {
      return 0;
    } else {
      this.#posKeys ??= sortedKeys(this.#pos);
      value = mapping.value(
        keyAtRank(this.#pos, this.#posKeys, rank - negCount - this.#zero, true),
      );
    }
    return Math.min(this.#max, Math.max(this.#min, value));
  }

  /** An independent copy. */
  clone(): QuantileSketch {
    return QuantileSketch.deserialize(this.serialize());
  }

  /** Deterministic bytes: equal multisets of values give identical bytes. */
  serialize(): Uint8Array {
    const w = new Writer();
    w.byte(VERSION);
    w.uvarint(this.#zero);
    writeBins(w, this.#pos, this.#posKeys ??= sortedKeys(this.#pos));
    writeBins(w, this.#neg, this.#negKeys ??= sortedKeys(this.#neg));
    if (this.#count > 0) {
      w.float64(this.#min);
      w.float64(this.#max);
    }
    return w.done();
  }

  /**
   * Reads bytes written by {@link serialize}.
   * @throws {RangeError} when the bytes are not a valid sketch of this version
   */
  static deserialize(bytes: Uint8Array): QuantileSketch {
    const s = new QuantileSketch();
    try {
      const r = new Reader(bytes);
      const version = r.byte();
      if (version !== VERSION) throw new RangeError(`unknown version ${version}`);
      s.#zero = r.uvarint();
      s.#pos = readBins(r);
      s.#neg = readBins(r);
      s.#posKeys = s.#negKeys = null;
      s.#count = s.#zero + binTotal(s.#pos) + binTotal(s.#neg);
      if (s.#count > 0) {
        s.#min = r.float64();
        s.#max = r.float64();
        if (!(s.#min <= s.#max)) throw new RangeError("min > max");
      }
      if (!r.done) throw new RangeError("trailing bytes");
    } catch (e) {
      throw new RangeError(`Invalid QuantileSketch bytes: ${(e as Error).message}`, { cause: e });
    }
    return s;
  }

  #bump(bins: Bins, key: number, positive: boolean): void {
    const c = bins.get(key);
    bins.set(key, (c ?? 0) + 1);
    if (c === undefined) {
      if (positive) this.#posKeys = null;
      else this.#negKeys = null;
    }
  }
}
