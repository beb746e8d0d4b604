/**
 * @module
 * The per-request GraphQL context: one merge-engine answer context (batch version, realtime
 * status, clock) shared by every field of the request, and provenance of answers whose GraphQL
 * type has no place for it.
 */
import type { AnswerContext, MergeEngine } from "../merge/engine.ts";
import type { Provenance } from "../merge/types.ts";

/** Mutable facts about a request that the HTTP log line reports. */
export interface RequestInfo {
  operationName?: string;
  operationType?: string;
  errors?: number;
}

/** What resolvers receive as `context`. */
export interface ServingContext {
  engine: MergeEngine;
  /** The answer context of this request (read once, on first use). */
  answer(): Promise<AnswerContext>;
  /** Provenance per response key of fields whose type has none (`sessions`). */
  extraProvenance: Map<string, Provenance>;
  requestInfo: RequestInfo;
}

/** Builds a request's context. */
export function createServingContext(
  engine: MergeEngine,
  requestInfo: RequestInfo = {},
): ServingContext {
  let answer: Promise<AnswerContext> | undefined;
  return {
    engine,
    answer: () => answer ??= engine.context(),
    extraProvenance: new Map(),
    requestInfo,
  };
}
