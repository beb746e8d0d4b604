/**
 * @module
 * GraphQL additions of issue #6: `user(id)` and `cdcSummary(table, from, to)`. Merge
 * {@link extTypeDefs} with the §4 `typeDefs` and {@link createExtResolvers} with the §4 resolvers;
 * see docs/ENRICHMENT.md "API".
 */
export { createExtResolvers, type ExtResolverOptions, sumMinutes } from "./resolvers.ts";
export { extTypeDefs } from "./schema.ts";
export {
  cassandraExtStore,
  type CdcMinuteRow,
  type ExtStore,
  MemoryExtStore,
  type UserRecord,
} from "./store.ts";
