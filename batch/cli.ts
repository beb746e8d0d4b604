/**
 * @module
 * Command line of `deno task batch` (node:util parseArgs):
 * `--date YYYY-MM-DD | --hour "YYYY-MM-DD HH:00" | --from D --to D`, `--lookback-days N`,
 * `--jobs a,b`, `--wait-seconds N`; aliases `--target-date`, `--target-hour "YYYY-MM-DD HH:00:00"`.
 */
import { parseArgs } from "node:util";
import { HOUR_MS, isoDate, parseHourKey, parseIsoDate } from "../shared/time.ts";
import { JOB_NAMES } from "./jobs/mod.ts";
import { dateRange } from "./plan.ts";
import type { BatchRequest } from "./run.ts";

/** A command line that cannot be run; the message says what to fix. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Usage text. */
export const USAGE =
  `Usage: deno task batch (--date YYYY-MM-DD | --hour "YYYY-MM-DD HH:00" | --from YYYY-MM-DD --to YYYY-MM-DD)
         [--lookback-days N] [--jobs ${JOB_NAMES.join(",")}] [--wait-seconds N]
Aliases: --target-date for --date, --target-hour "YYYY-MM-DD HH:00:00" for --hour.`;

/** A parsed command line. */
export interface BatchCommand {
  request: BatchRequest;
  /** Seconds to wait for a day's lock held by another run. */
  waitSeconds: number;
  help: boolean;
}

/**
 * Parses the arguments of `deno task batch`.
 * @throws {UsageError} naming the argument that is wrong
 */
export function parseBatchArgs(args: readonly string[]): BatchCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        date: { type: "string" },
        "target-date": { type: "string" },
        hour: { type: "string" },
        "target-hour": { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        "lookback-days": { type: "string" },
        jobs: { type: "string" },
        "wait-seconds": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return { request: { dates: [] }, waitSeconds: 0, help: true };
  const date = values.date ?? values["target-date"];
  const hour = values.hour ?? values["target-hour"];
  const modes =
    [date !== undefined, hour !== undefined, values.from !== undefined || values.to !== undefined]
      .filter(Boolean).length;
  if (modes !== 1) throw new UsageError("Give exactly one of --date, --hour, or --from with --to");
  const wrap = <T>(name: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw new UsageError(`${name}: ${(e as Error).message}`);
    }
  };
  const request: BatchRequest = { dates: [] };
  if (date !== undefined) {
    wrap("--date", () => parseIsoDate(date));
    request.dates = [date];
  } else if (hour !== undefined) {
    const start = wrap("--hour", () => parseHourKey(hour));
    const day = isoDate(start);
    request.dates = [day];
    request.hours = { [day]: [(start - parseIsoDate(day)) / HOUR_MS] };
  } else {
    if (values.from === undefined || values.to === undefined) {
      throw new UsageError("--from and --to go together");
    }
    request.dates = wrap("--from/--to", () => dateRange(values.from!, values.to!));
    if (request.dates.length > 3660) throw new UsageError("--from/--to: at most 3660 days");
  }
  if (values["lookback-days"] !== undefined) {
    const n = values["lookback-days"];
    if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > 366) {
      throw new UsageError(`--lookback-days: expected an integer in 1..366, got "${n}"`);
    }
    request.lookbackDays = Number(n);
  }
  if (values.jobs !== undefined) {
    const jobs = values.jobs.split(",").map((s) => s.trim()).filter(Boolean);
    for (const j of jobs) {
      if (!JOB_NAMES.includes(j)) {
        throw new UsageError(`--jobs: unknown job "${j}"; expected ${JOB_NAMES.join(", ")}`);
      }
    }
    if (jobs.length === 0) throw new UsageError("--jobs: empty list");
    request.jobs = jobs;
  }
  let waitSeconds = 0;
  if (values["wait-seconds"] !== undefined) {
    const n = values["wait-seconds"];
    if (!/^\d+$/.test(n)) throw new UsageError(`--wait-seconds: expected an integer, got "${n}"`);
    waitSeconds = Number(n);
  }
  return { request, waitSeconds, help: false };
}
