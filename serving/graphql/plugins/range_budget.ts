/**
 * @module
 * `useRangeBudget(options)`: the cost that armor's static cost cannot see — how many time buckets
 * an operation asks for across all its root fields (aliases included). Checked with the actual
 * argument values once variables are known, before any resolver runs.
 */
import {
  type FieldNode,
  type FragmentDefinitionNode,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  type SelectionSetNode,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import { GRANULARITY_MS } from "../../merge/engine.ts";
import type { Granularity } from "../../merge/types.ts";
import { DAY_MS } from "../../../shared/time.ts";

/** Options of {@link useRangeBudget}. */
export interface RangeBudgetOptions {
  /** Most buckets per operation (series points; sessions count one per day); default 100000. */
  maxBuckets?: number;
}

function rootFields(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  out: FieldNode[] = [],
  seen = new Set<string>(),
): FieldNode[] {
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) out.push(sel);
    else if (sel.kind === Kind.INLINE_FRAGMENT) rootFields(sel.selectionSet, fragments, out, seen);
    else if (!seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      const frag = fragments.get(sel.name.value);
      if (frag) rootFields(frag.selectionSet, fragments, out, seen);
    }
  }
  return out;
}

function buckets(args: Record<string, unknown>): number {
  const from = args.from, to = args.to;
  if (typeof from !== "number" || typeof to !== "number" || to <= from) return 0;
  const g = args.granularity as Granularity | undefined;
  const size = g ? GRANULARITY_MS[g] : DAY_MS; // sessions: one per day
  return Math.ceil(to / size) - Math.floor(from / size);
}

/** The plugin. */
export function useRangeBudget(options: RangeBudgetOptions = {}): Plugin {
  const max = options.maxBuckets ?? 100_000;
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const op = getOperationAST(args.document, args.operationName ?? undefined);
      const queryType = args.schema.getQueryType();
      if (!op || op.operation !== "query" || !queryType) return;
      const vars = getVariableValues(
        args.schema,
        op.variableDefinitions ?? [],
        (args.variableValues ?? {}) as Record<string, unknown>,
      );
      if (vars.errors) return; // execution reports them
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const d of args.document.definitions) {
        if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
      }
      let total = 0;
      for (const node of rootFields(op.selectionSet, fragments)) {
        const def = queryType.getFields()[node.name.value];
        if (!def || !def.args.some((a: { name: string }) => a.name === "from")) continue;
        try {
          total += buckets(getArgumentValues(def, node, vars.coerced));
        } catch {
          return; // invalid arguments: the resolver reports them
        }
      }
      if (total > max) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `Query refused: it asks for ${total} time buckets across its fields; at most ${max}`,
              { extensions: { code: "QUERY_REFUSED", limit: "rangeBudget" } },
            ),
          ],
        });
      }
    },
  };
}
