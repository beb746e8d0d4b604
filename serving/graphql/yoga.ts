/**
 * @module
 * The GraphQL Yoga server of the serving layer: the §4 schema and resolvers plus its features as
 * plugins, composed in one list and each switchable.
 */
import {
  createSchema,
  createYoga,
  useExecutionCancellation,
  type YogaServerInstance,
} from "graphql-yoga";
import type { AppMode } from "../../shared/config.ts";
import type { Logger } from "../../shared/log.ts";
import type { MergeEngine } from "../merge/engine.ts";
import { createServingContext, type RequestInfo, type ServingContext } from "./context.ts";
import { useArgumentErrors } from "./plugins/argument_errors.ts";
import { type LimitsOptions, useLimits } from "./plugins/limits.ts";
import { type RangeBudgetOptions, useRangeBudget } from "./plugins/range_budget.ts";
import { useRequestInfo } from "./plugins/request_info.ts";
import { createResolvers } from "./resolvers.ts";
import { typeDefs } from "./schema.ts";

/** What the HTTP layer passes to each request. */
export interface ServerContext {
  requestInfo?: RequestInfo;
}

/** Options of {@link createGraphQL}. */
export interface GraphQLOptions {
  engine: MergeEngine;
  /** development shows unexpected errors; other modes mask them. */
  mode: AppMode;
  logger: Logger;
  /** Depth, alias and cost limits (armor); false disables. */
  limits?: LimitsOptions | false;
  /** Bucket budget per operation; false disables. */
  rangeBudget?: RangeBudgetOptions | false;
  /** GraphiQL for browsers; default true. */
  graphiql?: boolean;
  /** Endpoint path; default `/graphql`. */
  endpoint?: string;
  /** Schema additions (e.g. serving/ext): SDL using `extend type Query`, and their resolvers. */
  extensions?: readonly SchemaExtension[];
  /**
   * Largest request body Yoga reads, in bytes; default Yoga's 25 000 000. False when the caller
   * has read and limited the body already (the HTTP app does).
   */
  maxRequestBodySize?: number | false;
}

/** SDL and resolvers merged into the §4 schema. */
export interface SchemaExtension {
  typeDefs: string;
  // deno-lint-ignore no-explicit-any
  resolvers: Record<string, any>;
}

export type ServingYoga = YogaServerInstance<ServerContext, ServingContext>;

/**
 * Creates the Yoga server.
 * @param options engine, mode, logger and plugin switches
 */
export function createGraphQL(options: GraphQLOptions): ServingYoga {
  const dev = options.mode === "development";
  const log = options.logger;
  const plugins = [
    useArgumentErrors(),
    options.limits !== false &&
    useLimits({ blockFieldSuggestions: !dev, ...(options.limits ?? {}) }),
    options.rangeBudget !== false && useRangeBudget(options.rangeBudget ?? {}),
    useRequestInfo(),
    useExecutionCancellation(),
  ].filter((p) => p !== false);
  return createYoga<ServerContext, ServingContext>({
    schema: createSchema({
      typeDefs: [typeDefs, ...(options.extensions ?? []).map((e) => e.typeDefs)],
      resolvers: [createResolvers(), ...(options.extensions ?? []).map((e) => e.resolvers)],
    }),
    graphqlEndpoint: options.endpoint ?? "/graphql",
    graphiql: options.graphiql ?? true,
    // GraphiQL with its scripts inlined (Yoga's default loads them from a CDN): works offline.
    renderGraphiQL: async (opts) =>
      (await import("@graphql-yoga/render-graphiql")).renderGraphiQL(opts),
    landingPage: false,
    ...(options.maxRequestBodySize !== undefined
      ? { maxRequestBodySize: options.maxRequestBodySize }
      : {}),
    maskedErrors: !dev,
    plugins,
    context: ({ requestInfo }) => createServingContext(options.engine, requestInfo ?? {}),
    logging: {
      debug: (...args: unknown[]) => log.debug("yoga", { args: args.map(String) }),
      info: (...args: unknown[]) => log.info("yoga", { args: args.map(String) }),
      warn: (...args: unknown[]) => log.warn("yoga", { args: args.map(String) }),
      error: (...args: unknown[]) =>
        log.error("graphql error", {
          error: args.find((a) => a instanceof Error) ?? args.map(String),
        }),
    },
  });
}
