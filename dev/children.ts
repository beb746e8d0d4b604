/**
 * @module
 * Child processes of `deno task dev`: started with their output in a log file and a marker
 * variable in their environment (inherited by their own children), stopped by pid with SIGTERM
 * then SIGKILL, and found again by that marker so nothing is left behind.
 */

/** One started child. */
export interface Child {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code when the child ends. */
  exited: Promise<number>;
  /** True once the child has ended. */
  done(): boolean;
}

/** Options of {@link startChild}. */
export interface StartOptions {
  /** Program arguments after the executable. */
  args: string[];
  /** Extra environment (the parent's environment is inherited). */
  env?: Record<string, string>;
  cwd?: string;
  /** The executable; default this Deno. */
  command?: string;
  /** Called with every output line (stdout and stderr), besides writing it to the log. */
  onLine?: (line: string) => void;
}

/**
 * Starts a child whose stdout and stderr are appended to `logFile`.
 * @param name shown in messages
 */
export async function startChild(
  name: string,
  logFile: string,
  opts: StartOptions,
): Promise<Child> {
  await Deno.mkdir(logFile.slice(0, logFile.lastIndexOf("/")), { recursive: true });
  const log = await Deno.open(logFile, { write: true, create: true, append: true });
  await log.write(new TextEncoder().encode(`=== ${new Date().toISOString()} ${name}\n`));
  const proc = new Deno.Command(opts.command ?? Deno.execPath(), {
    args: opts.args,
    env: opts.env,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Both streams go to one file, each chunk written whole and at once (lines stay readable).
  const write = (chunk: Uint8Array) => {
    for (let off = 0; off < chunk.length;) off += log.writeSync(chunk.subarray(off));
  };
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      write(chunk);
      if (!opts.onLine) continue;
      const lines = (rest + dec.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) opts.onLine(l);
    }
    if (rest && opts.onLine) opts.onLine(rest);
  };
  let ended = false;
  const exited = Promise.all([proc.status, pump(proc.stdout), pump(proc.stderr)])
    .then(([status]) => {
      ended = true;
      log.close();
      return status.code;
    });
  return { name, pid: proc.pid, logFile, exited, done: () => ended };
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT"); // harmless probe: throws when the process is gone
    return true;
  } catch {
    return false;
  }
}

/** The last `n` lines of a file ("" when it cannot be read). */
export async function tail(path: string, n = 20): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    return text.trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "";
  }
}

/**
 * Stops a child: SIGTERM, then SIGKILL after `graceMs`. Resolves when it has ended.
 * @returns the signal that ended it, or "exited" when it had already ended
 */
export async function stopChild(
  child: Child,
  graceMs: number,
): Promise<"exited" | "SIGTERM" | "SIGKILL"> {
  if (child.done()) return "exited";
  try {
    Deno.kill(child.pid, "SIGTERM");
  } catch {
    await child.exited;
    return "exited";
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    child.exited.then(() => false),
    new Promise<boolean>((r) => timer = setTimeout(() => r(true), graceMs)),
  ]);
  clearTimeout(timer);
  if (!timedOut) return "SIGTERM";
  try {
    Deno.kill(child.pid, "SIGKILL");
  } catch {
    // ended meanwhile
  }
  await child.exited;
  return "SIGKILL";
}

/**
 * Pids of live processes whose environment holds `name=value` (Linux `/proc`), except this one.
 * Elsewhere (no `/proc`) the list is empty.
 */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = new TextEncoder().encode(`${name}=${value}\0`);
  const out: number[] = [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid === Deno.pid) continue;
    let env: Uint8Array;
    try {
      env = Deno.readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    if (indexOf(env, needle) >= 0) out.push(pid);
  }
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    if (i > 0 && hay[i - 1] !== 0) continue; // variables start after a NUL
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Stops every process still carrying the marker (orphans of children that were killed), by pid:
 * SIGTERM, then SIGKILL after `graceMs`.
 * @returns the pids that had to be stopped
 */
export async function stopLeftovers(
  name: string,
  value: string,
  graceMs = 10_000,
): Promise<number[]> {
  const pids = processesWithEnv(name, value);
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  for (const pid of pids.filter(alive)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  return pids;
}
