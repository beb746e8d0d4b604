/**
 * @module
 * A small cache of `users_dim` rows for the enrichment job, shared by its tasks in a process.
 * Entries are reloaded once older than `maxAgeMs`, and dropped at once when the CDC job in the same
 * process reports a write (dim_feed.ts). Profile changes from profile_topic are laid over the
 * cached row right away, with Cassandra's rule: a change counts only while it is newer than the
 * row's last CDC state (a later CDC row state replaces the whole field map).
 */
import type { DimFeed } from "../cdc/dim_feed.ts";
import type { UserDim, UserDimStore } from "../cdc/user_dim.ts";

/** The profile of a user as enrichment sees it. */
export interface ProfileView {
  /** The user has a CDC row state or profile fields. */
  known: boolean;
  deleted: boolean;
  fields: Record<string, string>;
  /** Source position and time of the last CDC change applied. */
  sourcePosition: string | null;
  sourceTs: number | null;
  /** Stored device/country (when the job's own state has none yet). */
  lastDevice: string | null;
  lastCountry: string | null;
  lastAuthAt: number | null;
}

interface Entry {
  dim: UserDim | null;
  loadedAt: number;
  stale: boolean;
  /** Profile changes not older than the loaded row: field → value (null: cleared) and µs. */
  overlay: Map<string, { value: string | null; ts: number }>;
}

/** Options of {@link DimCache}. */
export interface DimCacheOptions {
  /** Reload entries older than this; default 2000 ms. */
  maxAgeMs?: number;
  /** Entries kept at most (oldest loaded dropped first); default 200000. */
  maxEntries?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Invalidation feed of the CDC job; default none. */
  feed?: DimFeed;
}

/** Cached user dimension rows with profile-change overlays. */
export class DimCache {
  #store: UserDimStore;
  #maxAge: number;
  #maxEntries: number;
  #now: () => number;
  #entries = new Map<string, Entry>();
  #inflight = new Map<string, Promise<void>>();
  #unsubscribe: (() => void) | undefined;
  /** Rows read from the store so far. */
  reads = 0;

  constructor(store: UserDimStore, options: DimCacheOptions = {}) {
    this.#store = store;
    this.#maxAge = options.maxAgeMs ?? 2000;
    this.#maxEntries = options.maxEntries ?? 200_000;
    this.#now = options.now ?? Date.now;
    this.#unsubscribe = options.feed?.subscribe((ids) => this.invalidate(ids));
  }

  /** Marks rows stale ("*": all), so the next {@link load} reads them again. */
  invalidate(ids: readonly string[]): void {
    if (ids.includes("*")) {
      for (const e of this.#entries.values()) e.stale = true;
      return;
    }
    for (const id of ids) {
      const e = this.#entries.get(id);
      if (e) e.stale = true;
    }
  }

  /** Loads the rows of `ids` that are missing, stale or too old. */
  async load(ids: Iterable<string>): Promise<void> {
    const now = this.#now();
    const want: string[] = [];
    const waits: Promise<void>[] = [];
    for (const id of new Set(ids)) {
      const running = this.#inflight.get(id);
      if (running) {
        waits.push(running);
        continue;
      }
      const e = this.#entries.get(id);
      if (!e || e.stale || now - e.loadedAt >= this.#maxAge) want.push(id);
    }
    if (want.length > 0) {
      const p = this.#fetch(want, now);
      for (const id of want) this.#inflight.set(id, p);
      waits.push(p);
    }
    await Promise.all(waits);
  }

  async #fetch(ids: string[], now: number): Promise<void> {
    try {
      const rows = await this.#store.get(ids);
      this.reads += ids.length;
      for (const id of ids) {
        const old = this.#entries.get(id);
        const dim = rows.get(id) ?? null;
        this.#entries.delete(id); // re-insert: Map order is load order for eviction
        this.#entries.set(id, {
          dim,
          loadedAt: now,
          stale: false,
          overlay: old?.overlay ?? new Map(),
        });
      }
      while (this.#entries.size > this.#maxEntries) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
    } finally {
      for (const id of ids) this.#inflight.delete(id);
    }
  }

  /** Lays a profile change (event time `ts` in µs) over the user's row. */
  applyProfile(userId: string, field: string, value: string | null, ts: number): void {
    let e = this.#entries.get(userId);
    if (!e) {
      e = { dim: null, loadedAt: -Infinity, stale: true, overlay: new Map() };
      this.#entries.set(userId, e);
    }
    const prev = e.overlay.get(field);
    if (!prev || prev.ts <= ts) e.overlay.set(field, { value, ts });
  }

  /** The profile of a user from what is loaded (call {@link load} first). */
  view(userId: string): ProfileView {
    const e = this.#entries.get(userId);
    const dim = e?.dim ?? null;
    const fields: Record<string, string> = { ...(dim?.fields ?? {}) };
    const cdcTs = dim?.cdcTs ?? -Infinity;
    for (const [k, o] of e?.overlay ?? []) {
      if (o.ts < cdcTs) continue; // replaced by a newer CDC row state
      if (o.value === null) delete fields[k];
      else fields[k] = o.value;
    }
    const known = dim?.cdcTs != null || Object.keys(fields).length > 0;
    return {
      known,
      deleted: dim?.deleted === true,
      fields: Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1))),
      sourcePosition: dim?.sourcePosition ?? null,
      sourceTs: dim?.sourceTs ?? null,
      lastDevice: dim?.lastDevice ?? null,
      lastCountry: dim?.lastCountry ?? null,
      lastAuthAt: dim?.lastAuthAt ?? null,
    };
  }

  /** Number of cached rows. */
  get size(): number {
    return this.#entries.size;
  }

  /** Stops listening to the feed. */
  close(): void {
    this.#unsubscribe?.();
  }
}
