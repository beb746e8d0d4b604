/**
 * @module
 * `useRequestInfo()`: records the operation name and type and the number of errors in the
 * context's `requestInfo` (for the request log), and puts provenance of fields whose type has no
 * place for it (`sessions`) in the response's `extensions.provenance`, keyed by response key.
 */
import { type ExecutionResult, getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { ServingContext } from "../context.ts";
import type { Provenance } from "../../merge/types.ts";

function provenanceJson(p: Provenance) {
  const iso = (t: number | null) => t === null ? null : new Date(t).toISOString();
  return {
    batchThrough: iso(p.batchThrough),
    realtimeWatermark: iso(p.realtimeWatermark),
    freshnessMs: p.freshnessMs,
    complete: p.complete,
    gaps: p.gaps.map((g) => ({ start: iso(g.start), end: iso(g.end) })),
  };
}

/** The plugin. */
export function useRequestInfo(): Plugin<ServingContext> {
  return {
    onExecute({ args }) {
      const ctx = args.contextValue as ServingContext;
      const op = getOperationAST(args.document, args.operationName ?? undefined);
      if (ctx.requestInfo) {
        ctx.requestInfo.operationName = op?.name?.value ?? args.operationName ?? undefined;
        ctx.requestInfo.operationType = op?.operation;
      }
      return {
        onExecuteDone({ result, setResult }) {
          const r = result as ExecutionResult;
          if (ctx.requestInfo) ctx.requestInfo.errors = r.errors?.length ?? 0;
          if (!ctx.extraProvenance || ctx.extraProvenance.size === 0) return;
          const provenance: Record<string, unknown> = {};
          for (const [k, p] of ctx.extraProvenance) provenance[k] = provenanceJson(p);
          setResult({ ...r, extensions: { ...r.extensions, provenance } });
        },
      };
    },
  };
}
