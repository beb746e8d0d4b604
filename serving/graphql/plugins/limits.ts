/**
 * @module
 * `useLimits(options)`: @escape.tech/graphql-armor's depth, alias, cost, token and directive
 * limits, checked while the query is validated (before execution). A refusal is a validation
 * error with `extensions.code = "QUERY_REFUSED"` and `extensions.limit` naming the limit.
 */
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import {
  type ASTVisitor,
  type FieldNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";
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
  /**
   * Deepest selection below `__schema`/`__type`, fragments expanded; default 16 (GraphiQL's
   * introspection query needs 13). Armor's depth and cost limits skip `__schema`, so without this
   * a cyclic `types { fields { type { fields … } } }` query would be unbounded.
   */
  maxIntrospectionDepth?: number;
}

const GRAPHQL_INTROSPECTION_DEPTH = "Maximum introspection depth exceeded";

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

function selectionDepth(
  ctx: ValidationContext,
  set: SelectionSetNode | undefined,
  seen: Set<string>,
): number {
  if (!set) return 0;
  let max = 0;
  for (const sel of set.selections) {
    let d = 0;
    if (sel.kind === Kind.FIELD) d = 1 + selectionDepth(ctx, sel.selectionSet, seen);
    else if (sel.kind === Kind.INLINE_FRAGMENT) d = selectionDepth(ctx, sel.selectionSet, seen);
    else if (!seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      d = selectionDepth(ctx, ctx.getFragment(sel.name.value)?.selectionSet, seen);
      seen.delete(sel.name.value);
    }
    if (d > max) max = d;
  }
  return max;
}

/** A validation rule bounding the depth of introspection selections. */
export function introspectionDepthRule(max: number) {
  return (ctx: ValidationContext): ASTVisitor => ({
    Field(node: FieldNode) {
      if (node.name.value !== "__schema" && node.name.value !== "__type") return;
      const depth = 1 + selectionDepth(ctx, node.selectionSet, new Set());
      if (depth > max) {
        ctx.reportError(
          new GraphQLError(
            `Query refused: introspection depth limit of ${max} exceeded, found ${depth}.`,
            {
              nodes: [node],
              extensions: { code: "QUERY_REFUSED", limit: "maxIntrospectionDepth" },
            },
          ),
        );
      }
      return false; // nested introspection fields are part of this one
    },
  });
}

/** The plugin. */
export function useLimits(options: LimitsOptions = {}): Plugin {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: options.maxDepth ?? 10, ...rule("maxDepth") },
    maxAliases: { n: options.maxAliases ?? 50, ...rule("maxAliases") },
    costLimit: { maxCost: options.maxCost ?? 5000, ...rule("costLimit") },
    // Token counting happens while parsing, where there is no validation context: it throws.
    maxTokens: { n: options.maxTokens ?? 5000, onReject: [refusal("maxTokens")] },
    maxDirectives: { n: options.maxDirectives ?? 50, ...rule("maxDirectives") },
    blockFieldSuggestion: { enabled: options.blockFieldSuggestions ?? true },
  }) as Plugin;
  const introspection = introspectionDepthRule(options.maxIntrospectionDepth ?? 16);
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(armor);
      addPlugin({
        onValidate({ addValidationRule }) {
          addValidationRule(introspection);
          // graphql-js's own MaxIntrospectionDepthRule (cyclic fields/interfaces/possibleTypes):
          // the same kind of refusal, so the same code.
          return ({ result, setResult }) => {
            if (!result.some((e) => e.message === GRAPHQL_INTROSPECTION_DEPTH)) return;
            setResult(
              result.map((e) =>
                e.message === GRAPHQL_INTROSPECTION_DEPTH && e instanceof GraphQLError
                  ? new GraphQLError(`Query refused: ${e.message.toLowerCase()}.`, {
                    nodes: e.nodes,
                    extensions: { code: "QUERY_REFUSED", limit: "maxIntrospectionDepth" },
                  })
                  : e
              ),
            );
          };
        },
      });
    },
  };
}
