/**
 * @module
 * A mergeable distinct-count sketch: an exact sparse set of 64-bit hashes up to
 * {@link SPARSE_LIMIT} (1024) distinct hashes, then a dense HyperLogLog with p = 16 (65536
 * registers, standard error 1.04/√65536 ≈ 0.41 %), estimated with Ertl's improved estimator
 * ("New cardinality estimation algorithms for HyperLogLog sketches", 2017), which needs neither
 * bias tables nor a separate linear-counting switch and is accurate over the whole range.
 *
 * The state is a pure function of the *set* of values added, so the serialised bytes are identical
 * whatever the insertion or merge order: the batch and speed layers can compare bytes.
 *
 * Hash: the UTF-8 bytes of the value through MurmurHash3 x86_32 twice, with seeds
 * {@link HASH_SEEDS} (two 32-bit lanes → one 64-bit hash `hi:lo`). Dense mode uses the top 14 bits
 * of `hi` as the register index and the remaining 50 bits for the rank.
 *
 * Serialised form (all integers big-endian):
 * - sparse: `[1, 0, count u16, count × (hi u32, lo u32)]`, hashes ascending;
 * - dense: `[1, 1, 16, 65536 registers packed as 6-bit values]` (49152 bytes).
 *
 * @example
 * ```ts
 * import { DistinctSketch } from "./hll.ts";
 * const a = DistinctSketch.empty();
 * a.add("user-1");
 * const b = DistinctSketch.deserialize(a.serialize()).merge(a);
 * b.estimate(); // 1
 * ```
 */

/** Most distinct hashes kept exactly before switching to HyperLogLog. */
export const SPARSE_LIMIT = 1024;
/** HyperLogLog precision: 2^14 registers. */
export const HLL_P = 16;
/** Seeds of the two MurmurHash3 lanes (hi, lo). */
export const HASH_SEEDS = [0x00000000, 0x9e3779b9] as const;

const M = 1 << HLL_P;
const Q = 64 - HLL_P; // rank bits
const VERSION = 1;
const SPARSE = 0;
const DENSE = 1;
const DENSE_BYTES = (M * 6) / 8;

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);
const lanes = new Uint32Array(2);

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function mixK(k: number): number {
  return Math.imul(rotl(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Both lanes in one pass over the bytes; writes `lanes[0]` (hi) and `lanes[1]` (lo). */
function murmur3Pair(data: Uint8Array, len: number): void {
  let h1 = HASH_SEEDS[0] | 0;
  let h2 = HASH_SEEDS[1] | 0;
  const blocks = len & ~3;
  for (let i = 0; i < blocks; i += 4) {
    const k = mixK(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    h1 = (Math.imul(rotl(h1 ^ k, 13), 5) + 0xe6546b64) | 0;
    h2 = (Math.imul(rotl(h2 ^ k, 13), 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= data[blocks + 2] << 16;
    if (rest >= 2) k ^= data[blocks + 1] << 8;
    k = mixK(k ^ data[blocks]);
    h1 ^= k;
    h2 ^= k;
  }
  lanes[0] = fmix(h1 ^ len);
  lanes[1] = fmix(h2 ^ len);
}

/** The 64-bit hash of a string as `[hi, lo]` unsigned 32-bit halves. */
export function hash64(value: string): [number, number] {
  hashInto(value);
  return [lanes[0], lanes[1]];
}

function hashInto(value: string): void {
  const len = value.length;
  if (scratch.length < len * 3) scratch = new Uint8Array(len * 3 + 64);
  // ASCII (the usual ids) is its own UTF-8: copied without the encoder call, which costs more
  // than the hash for short strings.
  let i = 0;
  for (; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7f) break;
    scratch[i] = c;
  }
  if (i === len) return murmur3Pair(scratch, len);
  const { written } = encoder.encodeInto(value, scratch);
  murmur3Pair(scratch, written);
}

/** Register index and rank (1..Q+1) of a hash. */
function denseAdd(registers: Uint8Array, hi: number, lo: number): void {
  const index = hi >>> (Q - 32);
  const low = hi & ((1 << (Q - 32)) - 1);
  const rank = low !== 0
    ? Math.clz32(low) - (64 - Q) + 1
    : lo !== 0
    ? Q - 32 + Math.clz32(lo) + 1
    : Q + 1;
  if (rank > registers[index]) registers[index] = rank;
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const prev = z;
    z += x * y;
    y += y;
    if (z === prev) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z === prev) return z / 3;
  }
}

/** Ertl's improved raw estimator over the register histogram. */
function ertlEstimate(registers: Uint8Array): number {
  const c = new Array<number>(Q + 2).fill(0);
  for (let i = 0; i < M; i++) c[registers[i]]++;
  let z = M * tau(1 - c[Q + 1] / M);
  for (let k = Q; k >= 1; k--) z = 0.5 * (z + c[k]);
  z += M * sigma(c[0] / M);
  return (M * M) / (2 * Math.LN2) / z;
}

/** Compares hashes (hi, lo) as unsigned 64-bit numbers. */
function cmp(ahi: number, alo: number, bhi: number, blo: number): number {
  return ahi !== bhi ? (ahi < bhi ? -1 : 1) : alo !== blo ? (alo < blo ? -1 : 1) : 0;
}

/**
 * Distinct count of strings: exact up to 1024 distinct values, HyperLogLog (p = 16, ≤ 2 % error
 * in practice, 0.41 % standard error) above. Mutable; `merge` is commutative and associative.
 */
export class DistinctSketch {
  /** Sparse mode: sorted hashes, `#size` used. Dense mode: null. */
  #hi: Uint32Array | null = new Uint32Array(16);
  #lo: Uint32Array | null = new Uint32Array(16);
  #size = 0;
  #registers: Uint8Array | null = null;

  /** A sketch of no values. */
  static empty(): DistinctSketch {
    return new DistinctSketch();
  }

  /** A sketch of the given values. */
  static of(values: Iterable<string>): DistinctSketch {
    const s = new DistinctSketch();
    for (const v of values) s.add(v);
    return s;
  }

  /** The union of several sketches (none of them is changed). */
  static union(sketches: Iterable<DistinctSketch>): DistinctSketch {
    const out = new DistinctSketch();
    for (const s of sketches) out.merge(s);
    return out;
  }

  /** `"sparse"` while exact, `"dense"` once it holds more than 1024 distinct hashes. */
  get mode(): "sparse" | "dense" {
    return this.#registers ? "dense" : "sparse";
  }

  /** Whether {@link estimate} is exact (sparse mode). */
  get exact(): boolean {
    return this.#registers === null;
  }

  /** Adds a value (its UTF-8 bytes are hashed). */
  add(value: string): this {
    hashInto(value);
    this.#addHash(lanes[0], lanes[1]);
    return this;
  }

  /** Adds every hash of `other` to this sketch and returns this sketch. */
  merge(other: DistinctSketch): this {
    if (other === this) return this;
    const oregs = other.#registers;
    if (oregs) {
      const regs = this.#toDense();
      for (let i = 0; i < M; i++) if (oregs[i] > regs[i]) regs[i] = oregs[i];
      return this;
    }
    const ohi = other.#hi!, olo = other.#lo!, on = other.#size;
    if (this.#registers) {
      for (let i = 0; i < on; i++) denseAdd(this.#registers, ohi[i], olo[i]);
      return this;
    }
    // sparse + sparse: merge the two sorted lists.
    const hi = this.#hi!, lo = this.#lo!, n = this.#size;
    const cap = Math.max(16, n + on);
    const mhi = new Uint32Array(cap), mlo = new Uint32Array(cap);
    let i = 0, j = 0, k = 0;
    while (i < n || j < on) {
      const c = i === n ? 1 : j === on ? -1 : cmp(hi[i], lo[i], ohi[j], olo[j]);
      if (c <= 0) {
        mhi[k] = hi[i];
        mlo[k++] = lo[i++];
        if (c === 0) j++;
      } else {
        mhi[k] = ohi[j];
        mlo[k++] = olo[j++];
      }
    }
    this.#hi = mhi;
    this.#lo = mlo;
    this.#size = k;
    if (k > SPARSE_LIMIT) this.#toDense();
    return this;
  }

  /** The number of distinct values: exact in sparse mode, HyperLogLog estimate (rounded) above. */
  estimate(): number {
    return this.#registers ? Math.round(ertlEstimate(this.#registers)) : this.#size;
  }

  /** An independent copy. */
  clone(): DistinctSketch {
    return DistinctSketch.deserialize(this.serialize());
  }

  /** Deterministic bytes: equal sets of values give identical bytes. */
  serialize(): Uint8Array {
    const regs = this.#registers;
    if (!regs) {
      const n = this.#size;
      const out = new Uint8Array(4 + 8 * n);
      const view = new DataView(out.buffer);
      out[0] = VERSION;
      out[1] = SPARSE;
      view.setUint16(2, n);
      for (let i = 0; i < n; i++) {
        view.setUint32(4 + 8 * i, this.#hi![i]);
        view.setUint32(8 + 8 * i, this.#lo![i]);
      }
      return out;
    }
    const out = new Uint8Array(3 + DENSE_BYTES);
    out[0] = VERSION;
    out[1] = DENSE;
    out[2] = HLL_P;
    // 4 registers (24 bits) → 3 bytes.
    for (let r = 0, o = 3; r < M; r += 4, o += 3) {
      const bits = (regs[r] << 18) | (regs[r + 1] << 12) | (regs[r + 2] << 6) | regs[r + 3];
      out[o] = bits >>> 16;
      out[o + 1] = (bits >>> 8) & 0xff;
      out[o + 2] = bits & 0xff;
    }
    return out;
  }

  /**
   * Reads bytes written by {@link serialize}.
   * @throws {RangeError} when the bytes are not a valid sketch of this version
   */
  static deserialize(bytes: Uint8Array): DistinctSketch {
    const bad = (why: string) => new RangeError(`Invalid DistinctSketch bytes: ${why}`);
    if (bytes.length < 2) throw bad(`too short (${bytes.length} bytes)`);
    if (bytes[0] !== VERSION) throw bad(`unknown version ${bytes[0]}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const s = new DistinctSketch();
    if (bytes[1] === SPARSE) {
      if (bytes.length < 4) throw bad("truncated header");
      const n = view.getUint16(2);
      if (n > SPARSE_LIMIT || bytes.length !== 4 + 8 * n) throw bad(`bad sparse length ${n}`);
      const hi = new Uint32Array(Math.max(16, n)), lo = new Uint32Array(Math.max(16, n));
      for (let i = 0; i < n; i++) {
        hi[i] = view.getUint32(4 + 8 * i);
        lo[i] = view.getUint32(8 + 8 * i);
        if (i > 0 && cmp(hi[i - 1], lo[i - 1], hi[i], lo[i]) >= 0) throw bad("hashes not sorted");
      }
      s.#hi = hi;
      s.#lo = lo;
      s.#size = n;
      return s;
    }
    if (bytes[1] !== DENSE) throw bad(`unknown mode ${bytes[1]}`);
    if (bytes[2] !== HLL_P || bytes.length !== 3 + DENSE_BYTES) throw bad("bad dense header");
    const regs = new Uint8Array(M);
    let max = 0;
    for (let r = 0, o = 3; r < M; r += 4, o += 3) {
      const bits = (bytes[o] << 16) | (bytes[o + 1] << 8) | bytes[o + 2];
      const a = bits >>> 18, b = (bits >>> 12) & 63, c = (bits >>> 6) & 63, d = bits & 63;
      regs[r] = a;
      regs[r + 1] = b;
      regs[r + 2] = c;
      regs[r + 3] = d;
      max = Math.max(max, a, b, c, d);
    }
    if (max > Q + 1) throw bad("register out of range");
    s.#registers = regs;
    s.#hi = s.#lo = null;
    return s;
  }

  #addHash(h: number, l: number): void {
    if (this.#registers) return denseAdd(this.#registers, h, l);
    const hi = this.#hi!, lo = this.#lo!, n = this.#size;
    let a = 0, b = n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      const c = cmp(hi[mid], lo[mid], h, l);
      if (c === 0) return;
      if (c < 0) a = mid + 1;
      else b = mid;
    }
    if (n === SPARSE_LIMIT) {
      denseAdd(this.#toDense(), h, l);
      return;
    }
    if (n === hi.length) {
      const grow = Math.min(SPARSE_LIMIT, Math.max(16, hi.length * 2));
      (this.#hi = new Uint32Array(grow)).set(hi);
      (this.#lo = new Uint32Array(grow)).set(lo);
    }
    const nhi = this.#hi!, nlo = this.#lo!;
    nhi.copyWithin(a + 1, a, n);
    nlo.copyWithin(a + 1, a, n);
    nhi[a] = h;
    nlo[a] = l;
    this.#size = n + 1;
  }

  #toDense(): Uint8Array {
    if (this.#registers) return this.#registers;
    const regs = new Uint8Array(M);
    for (let i = 0; i < this.#size; i++) denseAdd(regs, this.#hi![i], this.#lo![i]);
    this.#registers = regs;
    this.#hi = this.#lo = null;
    this.#size = 0;
    return regs;
  }
}
