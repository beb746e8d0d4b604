/**
 * @module
 * An in-memory {@link ViewStore} with Cassandra's last-write-wins rule per row (a higher write
 * timestamp wins; on a tie a delete wins, then the larger value), for unit tests and the
 * reference comparison.
 */
import type { LateHour } from "../operators/late_counter.ts";
import { keyLength, LATE_EVENTS, type TableSpec } from "./tables.ts";
import type { RowWrite, ViewStore } from "./view_store.ts";

interface Stored {
  values: unknown[] | null;
  version: number;
}

function keyOf(values: readonly unknown[], n: number): string {
  return JSON.stringify(values.slice(0, n));
}

/** Rows by table, newest version per primary key. */
export class MemoryViewStore implements ViewStore {
  #tables = new Map<string, Map<string, Stored>>();
  #writes = 0;
  /** When set, the next write calls reject with this error (simulated outage). */
  failWith: Error | undefined;

  /** Number of row writes accepted so far. */
  get writes(): number {
    return this.#writes;
  }

  write(rows: readonly RowWrite[]): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    for (const r of rows) {
      let t = this.#tables.get(r.table.name);
      if (!t) this.#tables.set(r.table.name, t = new Map());
      const n = keyLength(r.table);
      if (r.values.length !== (r.op === "delete" ? n : n + r.table.values.length)) {
        return Promise.reject(
          new RangeError(
            `Cannot write ${r.op} to ${r.table.name}: expected ${
              r.op === "delete" ? n : n + r.table.values.length
            } values, got ${r.values.length}`,
          ),
        );
      }
      const k = keyOf(r.values, n);
      const old = t.get(k);
      const next: Stored = { values: r.op === "delete" ? null : [...r.values], version: r.version };
      if (!old || wins(next, old)) t.set(k, next);
      this.#writes++;
    }
    return Promise.resolve();
  }

  lateCounts(view: string, topic: string, kpart: number): Promise<LateHour[]> {
    const t = this.#tables.get(LATE_EVENTS.name);
    const out: LateHour[] = [];
    for (const s of t?.values() ?? []) {
      const v = s.values;
      if (v && v[0] === view && v[2] === topic && v[3] === kpart) {
        out.push({ hour: v[1] as number, late: v[4] as number, version: s.version });
      }
    }
    return Promise.resolve(out);
  }

  /** Live rows of a table (values in row order). */
  rows(table: TableSpec | string): unknown[][] {
    const t = this.#tables.get(typeof table === "string" ? table : table.name);
    if (!t) return [];
    const out: unknown[][] = [];
    for (const s of t.values()) if (s.values) out.push(s.values);
    return out;
  }

  /** Live rows of a table as objects keyed by column name. */
  objects(table: TableSpec): Record<string, unknown>[] {
    const names = [...table.partitionKey, ...table.clustering, ...table.values].map((c) => c.name);
    return this.rows(table).map((v) => Object.fromEntries(names.map((n, i) => [n, v[i]])));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function wins(next: Stored, old: Stored): boolean {
  if (next.version !== old.version) return next.version > old.version;
  if (old.values === null) return false;
  if (next.values === null) return true;
  return JSON.stringify(next.values) > JSON.stringify(old.values);
}
