/**
 * @module
 * JSON-lines logger: one JSON object per line, `{"ts", "level", "name", "msg", ...fields}`, written
 * with one synchronous write per line so lines from concurrent tasks never interleave.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const log = createLogger({ name: "processor", level: "info" });
 * log.child({ job: "video_views" }).warn("late event", { partition: 3 });
 * ```
 */
import type { LogLevel } from "./config.ts";

export type { LogLevel };

/** Severity order of the levels; a logger writes the levels at or above its own. */
export const LOG_LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields added to a line. */
export type LogFields = Record<string, unknown>;

/** A structured logger. */
export interface Logger {
  readonly name: string;
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether a line of `level` would be written. */
  enabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line (a line's own fields win on conflict). */
  child(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Component name, the `name` of every line. */
  name: string;
  /** Lowest level written; default `"info"`. */
  level?: LogLevel;
  /**
   * Receives each line as JSON text *without* the trailing newline; default: writes the line plus
   * `"\n"` to stdout with `Deno.stdout.writeSync` (line-atomic).
   */
  write?: (line: string) => void;
  /** Clock for `ts`; default `Date.now`. */
  now?: () => number;
  /** Fields added to every line. */
  fields?: LogFields;
}

const encoder = new TextEncoder();
const CORE_KEYS = new Set(["ts", "level", "name", "msg"]);

/** Writes `line + "\n"` to stdout synchronously, looping over partial writes. */
export function writeStdout(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** An Error as a plain JSON-able object: name, message, stack and (recursively) cause. */
export function serializeError(e: Error, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.name, message: e.message, stack: e.stack };
  for (const [k, v] of Object.entries(e)) if (!(k in out)) out[k] = v;
  if (e.cause !== undefined) {
    out.cause = e.cause instanceof Error && depth < 5
      ? serializeError(e.cause, depth + 1)
      : e.cause;
  }
  return out;
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return serializeError(value);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return value;
}

function stringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, replacer);
  } catch (e) {
    // Circular or throwing fields: keep the line, say why the fields are missing.
    const { ts, level, name, msg } = record;
    return JSON.stringify({ ts, level, name, msg, logError: String(e) });
  }
}

/**
 * Creates a JSON-lines logger.
 * @param options name, level, writer
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? "info";
  if (!(level in LOG_LEVELS)) throw new RangeError(`Unknown log level: ${JSON.stringify(level)}`);
  const write = options.write ?? writeStdout;
  const now = options.now ?? Date.now;
  const bound = options.fields ?? {};
  const threshold = LOG_LEVELS[level];

  function log(at: LogLevel, msg: string, fields?: LogFields): void {
    if (LOG_LEVELS[at] < threshold) return;
    const record: Record<string, unknown> = {
      ts: new Date(now()).toISOString(),
      level: at,
      name: options.name,
      msg,
    };
    for (const source of [bound, fields ?? {}]) {
      for (const [k, v] of Object.entries(source)) {
        record[CORE_KEYS.has(k) ? `field.${k}` : k] = v;
      }
    }
    write(stringify(record));
  }

  return {
    name: options.name,
    level,
    debug: (msg, fields) => log("debug", msg, fields),
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
    enabled: (at) => LOG_LEVELS[at] >= threshold,
    child: (fields) => createLogger({ ...options, level, fields: { ...bound, ...fields } }),
  };
}
