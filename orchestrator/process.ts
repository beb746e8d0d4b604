/**
 * @module
 * Child processes as a small interface. The real spawner starts each child in its own process
 * group, forwards its output line by line (child log lines stay whole JSON lines on our stdout),
 * keeps the last lines for error reports, and after the child exits kills whatever is left in its
 * group, so a `deno task` child never leaves a grandchild behind.
 */
import { writeStdout } from "../shared/log.ts";

/** What to start. */
export interface ChildSpec {
  command: string;
  args: string[];
  cwd?: string;
  /** Environment added to the inherited one. */
  env?: Record<string, string>;
}

/** How a child ended. */
export interface ChildExit {
  code: number;
  signal: string | null;
}

/** A running child. */
export interface ChildHandle {
  readonly pid: number;
  /** Resolves when the child has exited and its output is drained. */
  readonly exited: Promise<ChildExit>;
  /** Sends `signal` to the child (`deno task` forwards it to the task's process). */
  signal(signal: Deno.Signal): void;
  /** SIGKILLs the child's whole process group. */
  killGroup(): void;
  /** The child's last output lines (stderr first), ANSI colours removed. */
  tail(): { stdout: string[]; stderr: string[] };
}

/** Starts child processes. */
export interface Spawner {
  /** @throws when the child cannot be started at all (e.g. command not found) */
  spawn(spec: ChildSpec): ChildHandle;
}

const TAIL_LINES = 20;
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

async function pump(
  stream: ReadableStream<Uint8Array>,
  forward: (line: string) => void,
  tail: string[],
): Promise<void> {
  let rest = "";
  const emit = (line: string) => {
    forward(line);
    tail.push(line.replace(ANSI, ""));
    if (tail.length > TAIL_LINES) tail.shift();
  };
  try {
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      rest += decoder.decode(bytes, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        emit(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    }
  } catch {
    // The pipe broke (child killed): what was read has been forwarded.
  }
  if (rest.length > 0) emit(rest);
}

function writeStderr(line: string): void {
  const bytes = new TextEncoder().encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}

function killQuietly(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Options of {@link denoSpawner}. */
export interface SpawnerOptions {
  /** Receives each stdout line of a child; default: written to our stdout. */
  stdout?: (line: string) => void;
  /** Receives each stderr line of a child; default: written to our stderr. */
  stderr?: (line: string) => void;
}

/** The real spawner (`Deno.Command`, each child in a new process group). */
export function denoSpawner(options: SpawnerOptions = {}): Spawner {
  const toStdout = options.stdout ?? writeStdout;
  const toStderr = options.stderr ?? writeStderr;
  return {
    spawn(spec: ChildSpec): ChildHandle {
      const child = new Deno.Command(spec.command, {
        args: spec.args,
        cwd: spec.cwd,
        env: spec.env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true, // own process group: we signal it, a terminal's Ctrl-C does not
      }).spawn();
      const pid = child.pid;
      const out: string[] = [];
      const err: string[] = [];
      const pumps = Promise.all([
        pump(child.stdout, toStdout, out),
        pump(child.stderr, toStderr, err),
      ]);
      const exited = (async () => {
        const status = await child.status;
        killQuietly(-pid, "SIGKILL"); // leftovers in the group hold our pipes open
        await pumps;
        return { code: status.code, signal: status.signal ?? null };
      })();
      return {
        pid,
        exited,
        signal: (signal) => killQuietly(pid, signal),
        killGroup: () => killQuietly(-pid, "SIGKILL"),
        tail: () => ({ stdout: [...out], stderr: [...err] }),
      };
    },
  };
}

/**
 * One line saying why a child failed, from its last output: the last stderr line that is not
 * `deno task`'s own banner, else the `msg` of its last JSON log line at level error.
 */
export function failureSummary(tail: { stdout: string[]; stderr: string[] }): string | undefined {
  const stderr = tail.stderr.map((l) => l.trim()).filter((l) => l && !/^Task \S+ /.test(l));
  if (stderr.length > 0) return stderr.at(-1)!.slice(0, 500);
  for (const line of [...tail.stdout].reverse()) {
    try {
      const rec = JSON.parse(line) as {
        level?: string;
        msg?: string;
        error?: { message?: string };
      };
      if (rec.level === "error" && rec.msg) {
        const detail = rec.error?.message ? `: ${rec.error.message}` : "";
        return `${rec.msg}${detail}`.slice(0, 500);
      }
    } catch {
      // not a log line
    }
  }
  return undefined;
}
