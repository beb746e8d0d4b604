/**
 * @module
 * `useLimits(options)`: @escape.tech/graphql-armor's depth, alias, cost, token and directive
 * limits, checked while the query is validated (before execution). A refusal is a validation
 * error with `extensions.code = "QUERY_REFUSED"` and `extensions.limit` naming the limit.
 */
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { GraphQLError, type ValidationContext } from "graphql";
import type { Plugin } from "graphql-yoga";

/** Options of {@link useLimits}; every default is the contract's or armor's. */
export interface LimitsOptions {
  /** Deepest selection; default 10. */
  maxDepth?: number;
  /** Most aliases in one operation; default 50. */
  maxAliases?: number;
  /** Armor's static cost (objects 2, scalars 1, ×1.5 per level); default 5000. */
  maxCost?: number;
  /** Most lexical tokens; default 5000. */
  maxTokens?: number;
  /** Most directives; default 50. */
  maxDirectives?: number;
  /** Hide "Did you mean …" suggestions (schema discovery); default true. */
  blockFieldSuggestions?: boolean;
}

type Limit = "maxDepth" | "maxAliases" | "costLimit" | "maxTokens" | "maxDirectives";

function refusal(limit: Limit) {
  return (ctx: ValidationContext | null, err: GraphQLError) => {
    const message = "Query refused: " + err.message.replace(/^Syntax Error: /, "");
    const refused = new GraphQLError(message, {
      nodes: err.nodes,
      extensions: { code: "QUERY_REFUSED", limit },
    });
    if (ctx) ctx.reportError(refused);
    else throw refused;
  };
}

function rule(limit: Limit) {
  return { propagateOnRejection: false, onReject: [refusal(limit)] };
}

/** The plugin. */
export function useLimits(options: LimitsOptions = {}): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: { n: options.maxDepth ?? 10, ...rule("maxDepth") },
    maxAliases: { n: options.maxAliases ?? 50, ...rule("maxAliases") },
    costLimit: { maxCost: options.maxCost ?? 5000, ...rule("costLimit") },
    // Token counting happens while parsing, where there is no validation context: it throws.
    maxTokens: { n: options.maxTokens ?? 5000, onReject: [refusal("maxTokens")] },
    maxDirectives: { n: options.maxDirectives ?? 50, ...rule("maxDirectives") },
    blockFieldSuggestion: { enabled: options.blockFieldSuggestions ?? true },
  }) as Plugin;
}
