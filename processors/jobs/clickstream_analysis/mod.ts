/**
 * @module
 * The `clickstream_analysis` realtime view job (sessions).
 */
export {
  clickstreamAnalysisJob,
  SessionPart,
  type SessionPartOptions,
} from "./clickstream_analysis.ts";
export {
  addClick,
  type ClickSession,
  emptySession,
  mergeSessions,
  PATH_LIMIT,
  type PathStep,
} from "./sessions.ts";
