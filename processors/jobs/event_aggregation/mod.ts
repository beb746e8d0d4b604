/**
 * @module
 * The `event_aggregation` realtime view job.
 */
export { appEventCounts, eventAggregationJob, userAppEvents } from "./event_aggregation.ts";
