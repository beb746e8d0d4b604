/**
 * @module
 * Which hours of a day a run publishes and which days it reads (pure functions).
 */
import { DAY_MS, HOUR_MS, isoDate, parseIsoDate } from "../shared/time.ts";

/** All hours of a day. */
export const ALL_HOURS: readonly number[] = Array.from({ length: 24 }, (_, h) => h);

/** Options of {@link planHours}. */
export interface PlanOptions {
  /** Hours asked for (all 24 for a day run). */
  requested: readonly number[];
  /** Hours of the day already published (republished too, so the day's files stay whole). */
  published: readonly number[];
  /** Current time. */
  now: number;
  /** An hour is publishable once its end is at least this long ago. */
  settleMs: number;
}

/** The hours a run of `date` publishes, and the requested hours it cannot publish yet. */
export function planHours(
  date: string,
  options: PlanOptions,
): { hours: number[]; notYet: number[] } {
  const start = parseIsoDate(date);
  const ready = (h: number) => start + (h + 1) * HOUR_MS + options.settleMs <= options.now;
  const wanted = [...new Set([...options.requested, ...options.published])].sort((a, b) => a - b);
  return {
    hours: wanted.filter(ready),
    notYet: options.requested.filter((h) => !ready(h)),
  };
}

/** The dates `from..to` days around `date` (inclusive), oldest first. */
export function datesAround(date: string, from: number, to: number): string[] {
  const start = parseIsoDate(date);
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(isoDate(start + i * DAY_MS));
  return out;
}

/**
 * Every date from `from` to `to` inclusive.
 * @throws {RangeError} when `to` is before `from`
 */
export function dateRange(from: string, to: string): string[] {
  const a = parseIsoDate(from);
  const b = parseIsoDate(to);
  if (b < a) throw new RangeError(`Invalid range: --to ${to} is before --from ${from}`);
  const out: string[] = [];
  for (let t = a; t <= b; t += DAY_MS) out.push(isoDate(t));
  return out;
}
