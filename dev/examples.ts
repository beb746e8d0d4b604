/**
 * @module
 * The three example queries `deno task dev` prints, as copy-pastable `curl` commands with the
 * current time ranges filled in (GraphQL over HTTP GET, CONTRACTS.md §4).
 */
import { DAY_MS, floorDay, floorHour, HOUR_MS, isoDate, toIso } from "../shared/time.ts";

/** One example: what it shows and its GraphQL text. */
export interface Example {
  title: string;
  query: string;
}

/**
 * The examples at `now`: app events per hour across the batch/realtime boundary, one course's
 * engagement per day (a MIXED day included), and yesterday's daily summary.
 * @param courseId a course of the generated population
 */
export function examples(now: number, courseId = "c001"): Example[] {
  const hourTo = floorHour(now) + HOUR_MS;
  const dayTo = floorDay(now) + DAY_MS;
  return [
    {
      title: "App events per hour, last 6 hours (source BATCH before batchThrough, REALTIME after)",
      query: `{ eventCounts(from: "${toIso(hourTo - 6 * HOUR_MS)}", to: "${
        toIso(hourTo)
      }", granularity: HOUR) { total points { start source count } provenance { batchThrough realtimeWatermark freshnessMs complete } } }`,
    },
    {
      title:
        `Course ${courseId} per day, last 3 days (today is MIXED: batch hours + realtime hours)`,
      query: `{ courseEngagement(courseId: "${courseId}", from: "${
        toIso(dayTo - 3 * DAY_MS)
      }", to: "${
        toIso(dayTo)
      }", granularity: DAY) { total { enrollments completions activeUsers } points { start source enrollments completions activeUsers } } }`,
    },
    {
      title: "Yesterday's daily summary (batch views only)",
      query: `{ dailySummary(date: "${
        isoDate(floorDay(now) - DAY_MS)
      }") { date totalEvents activeUsers sessions avgSessionDurationSec logins enrollments completions } }`,
    },
  ];
}

/** A POSIX shell single-quoted word. */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The `curl` command of a query against `graphqlUrl`. */
export function curlCommand(graphqlUrl: string, query: string): string {
  return `curl -sG ${graphqlUrl} -H 'accept: application/json' --data-urlencode ${
    shellQuote(`query=${query}`)
  }`;
}
