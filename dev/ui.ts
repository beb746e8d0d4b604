/**
 * @module
 * What `deno task dev` prints: one line per step with its duration, a progress line for long
 * steps (rewritten in place on a terminal, every few seconds otherwise), and a logger that turns
 * the platform's JSON log lines into short human lines.
 */
import { createLogger, type Logger, type LogLevel } from "../shared/log.ts";

const encoder = new TextEncoder();

/** Formats milliseconds as `0.4 s`, `12 s`, `2 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** Formats a count with thousands separators. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Options of {@link Printer}. */
export interface PrinterOptions {
  /** Where lines go; default `Deno.stdout.writeSync`. */
  write?: (bytes: Uint8Array) => void;
  /** Rewrite the progress line in place; default: stdout is a terminal. */
  tty?: boolean;
  /** Clock; default `Date.now`. */
  now?: () => number;
  /** Without a terminal, a progress line at most this often; default 5000 ms. */
  progressEveryMs?: number;
}

/** Step and progress lines. */
export class Printer {
  #write: (bytes: Uint8Array) => void;
  #tty: boolean;
  #now: () => number;
  #every: number;
  #progressShown = false;
  #lastProgress = 0;

  constructor(options: PrinterOptions = {}) {
    this.#write = options.write ?? ((b) => {
      let off = 0;
      while (off < b.length) off += Deno.stdout.writeSync(b.subarray(off));
    });
    this.#tty = options.tty ?? Deno.stdout.isTerminal();
    this.#now = options.now ?? Date.now;
    this.#every = options.progressEveryMs ?? 5000;
  }

  #line(text: string): void {
    this.#clear();
    this.#write(encoder.encode(text + "\n"));
  }

  #clear(): void {
    if (this.#tty && this.#progressShown) this.#write(encoder.encode("\r\x1b[2K"));
    this.#progressShown = false;
  }

  /** A step starts. */
  step(text: string): void {
    this.#line(`▸ ${text}`);
  }

  /** A step ended after `ms`. */
  done(text: string, ms?: number): void {
    this.#line(`✓ ${text}${ms === undefined ? "" : ` (${formatDuration(ms)})`}`);
  }

  /** A plain line. */
  info(text: string): void {
    this.#line(`  ${text}`);
  }

  /** Something the user should notice. */
  warn(text: string): void {
    this.#line(`! ${text}`);
  }

  /** A failure. */
  error(text: string): void {
    this.#line(`✗ ${text}`);
  }

  /** Replaces the progress line (a terminal) or prints it every few seconds (otherwise). */
  progress(text: string, force = false): void {
    const t = this.#now();
    if (this.#tty) {
      this.#write(encoder.encode(`\r\x1b[2K  … ${text}`));
      this.#progressShown = true;
    } else if (force || t - this.#lastProgress >= this.#every) {
      this.#lastProgress = t;
      this.#write(encoder.encode(`  … ${text}\n`));
    }
  }

  /** Text printed as is (blocks such as the URLs and example queries). */
  raw(text: string): void {
    this.#clear();
    this.#write(encoder.encode(text.endsWith("\n") ? text : text + "\n"));
  }
}

/**
 * A {@link Logger} whose lines are printed by `printer` as short human lines (`msg key=value`),
 * for library code that logs progress (e.g. the local servers starting).
 */
export function printerLogger(printer: Printer, name: string, level: LogLevel = "info"): Logger {
  return createLogger({
    name,
    level,
    write: (line) => {
      const { ts: _ts, level: at, name: _n, msg, ...fields } = JSON.parse(line);
      const rest = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
      const text = `${name}: ${msg}${rest ? ` (${rest})` : ""}`;
      if (at === "warn") printer.warn(text);
      else if (at === "error") printer.error(text);
      else printer.info(text);
    },
  });
}
