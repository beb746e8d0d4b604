/**
 * @module
 * `useArgumentErrors()`: every error about an argument's value (wrong type, unknown enum value,
 * bad DateTime/Date, missing required argument), whether written inline or passed as a
 * variable, becomes `extensions.code = "BAD_USER_INPUT"` with a message that starts with the
 * argument's name: `Argument "granularity" of "eventCounts": ...`.
 */
import {
  type ASTNode,
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  Kind,
  visit,
} from "graphql";
import type { Plugin } from "graphql-yoga";

interface ArgumentRef {
  argument: string;
  field: string;
}

/** Every value node inside an argument, mapped to that argument and its field or directive. */
function argumentsByValueNode(doc: DocumentNode): Map<ASTNode, ArgumentRef> {
  const out = new Map<ASTNode, ArgumentRef>();
  visit(doc, {
    Argument(node, _key, _parent, _path, ancestors) {
      // `parent` is the arguments array; the last ancestor is the field or directive.
      const last = ancestors[ancestors.length - 1];
      const owner = last && !Array.isArray(last) ? last as ASTNode : undefined;
      const field = owner && (owner.kind === Kind.FIELD || owner.kind === Kind.DIRECTIVE)
        ? (owner.kind === Kind.DIRECTIVE ? "@" : "") + owner.name.value
        : "?";
      const ref = { argument: node.name.value, field };
      visit(node.value, {
        enter(n) {
          out.set(n, ref);
        },
      });
    },
  });
  return out;
}

/** Arguments each variable is passed to. */
function argumentsByVariable(doc: DocumentNode): Map<string, ArgumentRef[]> {
  const byNode = argumentsByValueNode(doc);
  const out = new Map<string, ArgumentRef[]>();
  for (const [node, ref] of byNode) {
    if (node.kind !== Kind.VARIABLE) continue;
    const list = out.get(node.name.value) ?? [];
    if (!list.some((r) => r.argument === ref.argument && r.field === ref.field)) list.push(ref);
    out.set(node.name.value, list);
  }
  return out;
}

function describeRefs(refs: ArgumentRef[]): string {
  return refs.map((r) => `Argument "${r.argument}" of "${r.field}"`).join(", ");
}

function rewrite(error: GraphQLError, message: string): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: "BAD_USER_INPUT" },
  });
}

const REQUIRED_ARGUMENT = /^Field "[^"]+" argument "[^"]+" of type "[^"]+" is required/;
const VARIABLE_ERROR = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)"/;

/** Rewrites validation errors about argument values. Exported for tests. */
export function rewriteValidationErrors<E extends Error>(
  doc: DocumentNode,
  errors: readonly E[],
): (E | GraphQLError)[] {
  let byNode: Map<ASTNode, ArgumentRef> | undefined;
  return errors.map((e) => {
    if (!(e instanceof GraphQLError)) return e;
    if (REQUIRED_ARGUMENT.test(e.message)) return rewrite(e, e.message);
    byNode ??= argumentsByValueNode(doc);
    const ref = e.nodes?.map((n) => byNode!.get(n)).find((r) => r !== undefined);
    if (!ref) return e;
    return rewrite(e, `${describeRefs([ref])}: ${e.message}`);
  });
}

/** Rewrites variable coercion errors (raised when execution starts). Exported for tests. */
export function rewriteVariableErrors(
  doc: DocumentNode,
  errors: readonly GraphQLError[],
): GraphQLError[] {
  let byVariable: Map<string, ArgumentRef[]> | undefined;
  return errors.map((e) => {
    const m = VARIABLE_ERROR.exec(e.message);
    if (!m || e.path !== undefined) return e;
    byVariable ??= argumentsByVariable(doc);
    const refs = byVariable.get(m[1]) ?? [];
    return rewrite(e, refs.length > 0 ? `${describeRefs(refs)}: ${e.message}` : e.message);
  });
}

/** The plugin; place it first so later plugins see the rewritten errors. */
export function useArgumentErrors(): Plugin {
  return {
    onValidate({ params }) {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(rewriteValidationErrors(params.documentAST, result));
      };
    },
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          const r = result as ExecutionResult;
          if (!r || !("errors" in r) || !r.errors || r.data !== undefined) return;
          setResult({ ...r, errors: rewriteVariableErrors(args.document, r.errors) });
        },
      };
    },
  };
}
