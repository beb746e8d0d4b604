/**
 * @module
 * The `archiver` stream job: writes every valid event to the master dataset.
 */
export {
  type ArchiverConfig,
  type ArchiverDeps,
  archiverJob,
  type RollPolicy,
} from "./archiver.ts";
