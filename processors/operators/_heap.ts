/** A binary min-heap ordered by a numeric priority. */
export class MinHeap<T> {
  #items: T[] = [];
  #prio: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(item: T, priority: number): void {
    const items = this.#items, prio = this.#prio;
    let i = items.length;
    items.push(item);
    prio.push(priority);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (prio[p] <= priority) break;
      items[i] = items[p];
      prio[i] = prio[p];
      i = p;
    }
    items[i] = item;
    prio[i] = priority;
  }

  /** The smallest priority, or Infinity when empty. */
  peekPriority(): number {
    return this.#prio.length > 0 ? this.#prio[0] : Infinity;
  }

  pop(): T | undefined {
    const items = this.#items, prio = this.#prio;
    if (items.length === 0) return undefined;
    const top = items[0];
    const lastItem = items.pop()!, lastPrio = prio.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && prio[r] < prio[l] ? r : l;
        if (prio[c] >= lastPrio) break;
        items[i] = items[c];
        prio[i] = prio[c];
        i = c;
      }
      items[i] = lastItem;
      prio[i] = lastPrio;
    }
    return top;
  }
}
