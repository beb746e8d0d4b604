/**
 * @module
 * In-process notice that users' dimension rows changed in Cassandra, so the enrichment job running
 * in the same process drops its cached copies at once instead of waiting for the cache to expire.
 * Purely an accelerator: across processes the cache's age bound applies.
 */

/** Receives the ids whose `users_dim` rows were just written. */
export type DimListener = (userIds: readonly string[]) => void;

/** A publish/subscribe channel of user ids. */
export interface DimFeed {
  publish(userIds: readonly string[]): void;
  /** @returns a function that unsubscribes */
  subscribe(listener: DimListener): () => void;
}

/** A new feed. */
export function createDimFeed(): DimFeed {
  const listeners = new Set<DimListener>();
  return {
    publish(userIds) {
      if (userIds.length === 0) return;
      for (const l of listeners) l(userIds);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The process-wide feed both jobs use unless given another. */
export const processDimFeed: DimFeed = createDimFeed();
