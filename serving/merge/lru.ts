/**
 * @module
 * A small least-recently-used map bounded by a total weight (entries count 1 each by default).
 */

/** Options of {@link Lru}. */
export interface LruOptions<V> {
  /** Largest total weight kept; default 1000. */
  maxWeight?: number;
  /** Weight of a value; default 1. */
  weigh?: (value: V) => number;
}

/** An LRU map; `get` refreshes an entry, `set` evicts the least recently used beyond the bound. */
export class Lru<K, V> {
  #map = new Map<K, { value: V; weight: number }>();
  #weight = 0;
  readonly #max: number;
  readonly #weigh: (value: V) => number;

  constructor(options: LruOptions<V> = {}) {
    this.#max = options.maxWeight ?? 1000;
    this.#weigh = options.weigh ?? (() => 1);
    if (!(this.#max > 0)) throw new RangeError(`Lru: 'maxWeight' must be > 0, got ${this.#max}`);
  }

  get size(): number {
    return this.#map.size;
  }

  get weight(): number {
    return this.#weight;
  }

  get(key: K): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): this {
    this.delete(key);
    const weight = this.#weigh(value);
    this.#map.set(key, { value, weight });
    this.#weight += weight;
    for (const [k, e] of this.#map) {
      if (this.#weight <= this.#max || this.#map.size === 1) break;
      this.#map.delete(k);
      this.#weight -= e.weight;
    }
    return this;
  }

  delete(key: K): boolean {
    const e = this.#map.get(key);
    if (!e) return false;
    this.#map.delete(key);
    this.#weight -= e.weight;
    return true;
  }

  /** Deletes every entry whose key fails `keep`. */
  retain(keep: (key: K) => boolean): void {
    for (const k of [...this.#map.keys()]) if (!keep(k)) this.delete(k);
  }

  clear(): void {
    this.#map.clear();
    this.#weight = 0;
  }
}
