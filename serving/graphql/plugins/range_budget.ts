/**
 * @module
 * `useRangeBudget(options)`: the cost that armor's static cost cannot see — how many time buckets
 * an operation asks for across all its root fields (aliases included). Checked with the actual
 * argument values once variables are known, before any resolver runs.
 */
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLField,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
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

/** The root fields of an operation that take a time range, with their definitions. */
interface RangeFields {
  op: OperationDefinitionNode;
  fields: { node: FieldNode; def: GraphQLField<unknown, unknown> }[];
}

/** The plugin. */
export function useRangeBudget(options: RangeBudgetOptions = {}): Plugin {
  const max = options.maxBuckets ?? 100_000;
  // Parsed documents are cached and reused by Yoga, so their analysis is kept with them.
  const analysed = new WeakMap<DocumentNode, Map<string, RangeFields | null>>();
  function rangeFields(
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName: string | undefined,
  ): RangeFields | null {
    let byName = analysed.get(document);
    if (!byName) analysed.set(document, byName = new Map());
    const name = operationName ?? "";
    if (byName.has(name)) return byName.get(name)!;
    let out: RangeFields | null = null;
    const op = getOperationAST(document, operationName);
    const queryType = schema.getQueryType();
    if (op && op.operation === "query" && queryType) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const d of document.definitions) {
        if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
      }
      const fields: RangeFields["fields"] = [];
      for (const node of rootFields(op.selectionSet, fragments)) {
        const def = queryType.getFields()[node.name.value];
        if (def && def.args.some((a: { name: string }) => a.name === "from")) {
          fields.push({ node, def });
        }
      }
      if (fields.length > 0) out = { op, fields };
    }
    if (byName.size < 16) byName.set(name, out);
    return out;
  }
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const found = rangeFields(args.schema, args.document, args.operationName ?? undefined);
      if (!found) return;
      const vars = getVariableValues(
        args.schema,
        found.op.variableDefinitions ?? [],
        (args.variableValues ?? {}) as Record<string, unknown>,
      );
      if (vars.errors) return; // execution reports them
      let total = 0;
      for (const { node, def } of found.fields) {
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
