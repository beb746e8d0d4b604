/**
 * UTC time helpers used by the generator and the reference calculator.
 * TODO: switch to shared/time.ts once it lands (same semantics: half-open UTC buckets).
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function floorTo(ms: number, size: number): number {
  return Math.floor(ms / size) * size;
}
export function floorMinute(ms: number): number {
  return floorTo(ms, MINUTE_MS);
}
export function floorHour(ms: number): number {
  return floorTo(ms, HOUR_MS);
}
export function floorDay(ms: number): number {
  return floorTo(ms, DAY_MS);
}
/** `YYYY-MM-DD` of an instant (UTC). */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
/** RFC 3339 UTC with milliseconds. */
export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}
/** Start of a `YYYY-MM-DD` day (UTC). @throws {RangeError} when malformed */
export function parseDate(date: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    throw new RangeError(`Cannot parse date: expected YYYY-MM-DD, got "${date}"`);
  }
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!Number.isFinite(ms) || isoDate(ms) !== date) {
    throw new RangeError(`Cannot parse date: "${date}" is not a calendar date`);
  }
  return ms;
}
