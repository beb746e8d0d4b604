/**
 * @module
 * UTC time buckets and ISO helpers. Every bucket is half-open `[start, start + size)`; all inputs
 * and outputs are epoch milliseconds in UTC.
 */

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

function floorTo(ms: number, size: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`Cannot floor time: not a finite number: ${ms}`);
  return ms - (((ms % size) + size) % size);
}

/** Start of the UTC minute containing `ms`. */
export function floorMinute(ms: number): number {
  return floorTo(ms, MINUTE_MS);
}

/** Start of the UTC hour containing `ms`. */
export function floorHour(ms: number): number {
  return floorTo(ms, HOUR_MS);
}

/** Start of the UTC day containing `ms`. */
export function floorDay(ms: number): number {
  return floorTo(ms, DAY_MS);
}

/** Alias of {@link floorMinute} (the name used in DESIGN.md). */
export const minuteStart = floorMinute;
/** Alias of {@link floorHour} (the name used in DESIGN.md). */
export const hourStart = floorHour;
/** Alias of {@link floorDay} (the name used in DESIGN.md). */
export const dayStart = floorDay;

/**
 * RFC 3339 text in UTC with millisecond precision, e.g. `2026-11-20T05:04:03.002Z`.
 * @throws {RangeError} when `ms` is not a time between years 0000 and 9999
 */
export function toIso(ms: number): string {
  const d = new Date(ms);
  if (!Number.isFinite(d.getTime()) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) {
    throw new RangeError(`Cannot format time: out of range: ${ms}`);
  }
  return d.toISOString();
}

/** The UTC date of `ms` as `YYYY-MM-DD`. */
export function isoDate(ms: number): string {
  return toIso(ms).slice(0, 10);
}

/** The UTC hour of `ms` as `YYYY-MM-DDTHH` (the manifest's hour key). */
export function hourKey(ms: number): string {
  return toIso(ms).slice(0, 13);
}

/**
 * Parses a calendar date `YYYY-MM-DD` to the epoch ms of its UTC midnight.
 * @throws {RangeError} naming the value when it is not a real date in that form
 */
export function parseIsoDate(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || !Number.isFinite(ms) || isoDate(ms) !== text) {
    throw new RangeError(`Invalid date ${JSON.stringify(text)}: expected YYYY-MM-DD`);
  }
  return ms;
}

/**
 * Parses an hour as `YYYY-MM-DDTHH`, `YYYY-MM-DDTHH:00` or `YYYY-MM-DD HH:00` (UTC) to the epoch ms
 * of its start.
 * @throws {RangeError} naming the value when it is not a real hour in one of those forms
 */
export function parseHourKey(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2})(?::00(?::00)?)?Z?$/.exec(text);
  if (m && Number(m[2]) < 24) {
    try {
      return parseIsoDate(m[1]) + Number(m[2]) * HOUR_MS;
    } catch { /* reported below with the whole value */ }
  }
  throw new RangeError(`Invalid hour ${JSON.stringify(text)}: expected "YYYY-MM-DD HH:00"`);
}

/** Every bucket start of size `sizeMs` in `[fromMs, toMs)`, starting at the bucket of `fromMs`. */
export function bucketStarts(fromMs: number, toMs: number, sizeMs: number): number[] {
  if (!(sizeMs > 0)) {
    throw new RangeError(`Cannot list buckets: 'sizeMs' must be > 0, got ${sizeMs}`);
  }
  const out: number[] = [];
  for (let t = floorTo(fromMs, sizeMs); t < toMs; t += sizeMs) out.push(t);
  return out;
}
