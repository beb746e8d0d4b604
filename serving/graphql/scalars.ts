/**
 * @module
 * `DateTime` (RFC 3339 with an offset, answered in UTC with milliseconds) and `Date` (YYYY-MM-DD)
 * as epoch milliseconds inside the server, with errors that say exactly what is wrong.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";

/**
 * A value that is not a valid DateTime/Date. A plain TypeError on purpose: for inline literals
 * graphql-js then attaches the value's AST node, which names the argument it belongs to.
 */
export class ScalarInputError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "ScalarInputError";
  }
}

/**
 * A BAD_USER_INPUT error that keeps its code when graphql-js wraps it for a variable (it copies
 * the extensions of `originalError`, so that is a GraphQLError with the same code).
 */
export function badUserInput(message: string): GraphQLError {
  const extensions = { code: "BAD_USER_INPUT" };
  return new GraphQLError(message, {
    extensions,
    originalError: new GraphQLError(message, { extensions }),
  });
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})?$/;

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function describe(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(JSON.stringify(value));
  } catch {
    return String(value);
  }
}

/**
 * Parses RFC 3339 date-time text to epoch ms (digits past milliseconds are truncated).
 * @throws {ScalarInputError} naming what is wrong
 */
export function parseDateTime(value: unknown): number {
  const shown = describe(value);
  if (typeof value !== "string") {
    throw new ScalarInputError(
      `DateTime must be an RFC 3339 string like "2026-11-20T05:00:00Z", got ${shown}`,
    );
  }
  const m = RFC3339.exec(value);
  if (!m) {
    throw new ScalarInputError(
      `DateTime must be RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)", got ${shown}`,
    );
  }
  const [, ys, mos, ds, hs, mis, ss, frac, offset] = m;
  const y = Number(ys), mo = Number(mos), d = Number(ds);
  const h = Number(hs), mi = Number(mis), s = Number(ss);
  if (offset === undefined) {
    throw new ScalarInputError(`DateTime ${shown} has no offset: add "Z" or "±HH:MM"`);
  }
  if (mo < 1 || mo > 12) {
    throw new ScalarInputError(`DateTime ${shown}: month ${mos} is not 01..12`);
  }
  if (d < 1 || d > daysInMonth(y, mo)) {
    throw new ScalarInputError(`DateTime ${shown}: ${ys}-${mos} has no day ${ds}`);
  }
  if (h > 23) throw new ScalarInputError(`DateTime ${shown}: hour ${hs} is not 00..23`);
  if (mi > 59) throw new ScalarInputError(`DateTime ${shown}: minute ${mis} is not 00..59`);
  if (s > 59) {
    throw new ScalarInputError(`DateTime ${shown}: second ${ss} is not 00..59 (no leap seconds)`);
  }
  let offsetMs = 0;
  if (offset !== "Z" && offset !== "z") {
    const oh = Number(offset.slice(1, 3)), om = Number(offset.slice(4, 6));
    if (oh > 23 || om > 59) {
      throw new ScalarInputError(`DateTime ${shown}: offset ${offset} is invalid`);
    }
    offsetMs = (offset[0] === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const ms = Number((frac ?? "").padEnd(3, "0").slice(0, 3));
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi, s, ms);
  return utc.getTime() - offsetMs;
}

/**
 * Parses a calendar date `YYYY-MM-DD` to the epoch ms of its UTC midnight.
 * @throws {ScalarInputError} naming what is wrong
 */
export function parseDate(value: unknown): number {
  const shown = describe(value);
  if (typeof value !== "string") {
    throw new ScalarInputError(`Date must be a string "YYYY-MM-DD", got ${shown}`);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) throw new ScalarInputError(`Date must be "YYYY-MM-DD", got ${shown}`);
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  if (mo < 1 || mo > 12) throw new ScalarInputError(`Date ${shown}: month ${m[2]} is not 01..12`);
  if (d < 1 || d > daysInMonth(y, mo)) {
    throw new ScalarInputError(`Date ${shown}: ${m[1]}-${m[2]} has no day ${m[3]}`);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  return utc.getTime();
}

function literal(node: ValueNode, name: string): string {
  if (node.kind !== Kind.STRING) {
    throw new ScalarInputError(
      `${name} must be a string literal, got ${node.kind.toLowerCase()} value`,
    );
  }
  return node.value;
}

/** Variables: a BAD_USER_INPUT GraphQLError, whose code survives graphql-js's wrapping. */
function forVariables(parse: (value: unknown) => number, value: unknown): number {
  try {
    return parse(value);
  } catch (e) {
    if (e instanceof ScalarInputError) throw badUserInput(e.message);
    throw e;
  }
}

function toEpoch(value: unknown, name: string): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number" && Number.isFinite(value)) return value;
  throw new TypeError(`${name} cannot serialize ${describe(value)}`);
}

/** `cache`'s value for `key`, else `compute(key)` remembered (the cache emptied at 4096 entries). */
function remembered<K, V>(cache: Map<K, V>, key: K, compute: (key: K) => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = compute(key);
    if (cache.size >= 4096) cache.clear();
    cache.set(key, value);
  }
  return value;
}

/** Recently formatted instants: series repeat the same bucket bounds in every answer. */
const isoTexts = new Map<number, string>();
const isoText = (ms: number) => remembered(isoTexts, ms, (t) => new Date(t).toISOString());

/** Recently parsed DateTime texts (valid ones): clients repeat the same `from`/`to` often. */
const parsedTexts = new Map<unknown, number>();
const parseDateTimeCached = (value: unknown) => remembered(parsedTexts, value, parseDateTime);

/** `DateTime`: RFC 3339 in, `YYYY-MM-DDTHH:MM:SS.sssZ` out; epoch ms inside. */
export const DateTimeScalar = new GraphQLScalarType<number, string>({
  name: "DateTime",
  description: "RFC 3339 date-time with offset; answered in UTC",
  specifiedByURL: "https://www.rfc-editor.org/rfc/rfc3339",
  serialize: (value) => isoText(toEpoch(value, "DateTime")),
  parseValue: (value) => forVariables(parseDateTimeCached, value),
  parseLiteral: (node) => parseDateTimeCached(literal(node, "DateTime")),
});

/** `Date`: `YYYY-MM-DD`; the epoch ms of its UTC midnight inside. */
export const DateScalar = new GraphQLScalarType<number, string>({
  name: "Date",
  description: "Calendar date YYYY-MM-DD (UTC)",
  serialize: (value) => new Date(toEpoch(value, "Date")).toISOString().slice(0, 10),
  parseValue: (value) => forVariables(parseDate, value),
  parseLiteral: (node) => parseDate(literal(node, "Date")),
});
