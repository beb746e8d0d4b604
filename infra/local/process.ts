/**
 * @module
 * Detached server processes: launch with a pid file, recognise ours by a marker on the command
 * line, stop by pid (SIGTERM, then SIGKILL), probe ports, read log tails. Linux only (`/proc`).
 */

const LAUNCHER = new URL("./launch.sh", import.meta.url).pathname;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid in a pid file, or undefined when there is none. */
export function readPid(pidFile: string): number | undefined {
  try {
    const n = Number(Deno.readTextFileSync(pidFile).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True while the process exists and is not a zombie. A zombie thread-group leader whose other
 * threads are still exiting (and may still hold its sockets) counts as alive.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state !== "Z" && state !== "X") return true;
    return [...Deno.readDirSync(`/proc/${pid}/task`)].length > 1;
  } catch {
    return false;
  }
}

/** True when `pid` is alive and its command line contains `marker` (guards against pid reuse). */
export function isOurs(pid: number | undefined, marker: string): pid is number {
  if (pid === undefined || !isAlive(pid)) return false;
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").includes(marker);
  } catch {
    return false;
  }
}

/** Resident memory of a process in bytes (VmRSS), or undefined when it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident memory of a process in bytes (VmHWM), or 0 when it is gone. */
export function peakRssBytes(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system, all threads) a process used so far, in seconds (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** What {@linkcode launchDetached} starts. */
export interface LaunchSpec {
  command: string;
  args: string[];
  pidFile: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd?: string;
}

/**
 * Starts a command in its own session, detached from this process (it keeps running after Deno
 * exits), and returns its pid once the pid file is written.
 * @throws {Error} when the launcher fails or no pid file appears within 10 s
 */
export async function launchDetached(spec: LaunchSpec): Promise<number> {
  await Deno.remove(spec.pidFile).catch(() => {});
  const out = await new Deno.Command("sh", {
    args: [LAUNCHER, spec.pidFile, spec.logFile, spec.command, ...spec.args],
    cwd: spec.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`Cannot launch ${spec.command}: ${new TextDecoder().decode(out.stderr)}`);
  }
  for (let i = 0; i < 200; i++) {
    const pid = readPid(spec.pidFile);
    if (pid !== undefined) return pid;
    await sleep(50);
  }
  throw new Error(`Launched ${spec.command} but ${spec.pidFile} was not written within 10 s`);
}

/** Options of {@linkcode stopPid}. */
export interface StopOptions {
  /** Time to wait after SIGTERM before SIGKILL; default 30000 ms. */
  graceMs?: number;
}

/**
 * Stops a process: SIGTERM, wait up to `graceMs`, then SIGKILL, and waits until it is gone.
 * @returns "term" or "kill" (how it ended), or "gone" when it was not running
 */
export async function stopPid(
  pid: number,
  opts: StopOptions = {},
): Promise<"term" | "kill" | "gone"> {
  if (!isAlive(pid)) return "gone";
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return "gone";
  }
  const deadline = Date.now() + (opts.graceMs ?? 30_000);
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return "term";
    await sleep(100);
  }
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // exited meanwhile
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) throw new Error(`Process ${pid} survived SIGKILL`);
  return "kill";
}

/** True when something accepts TCP connections on host:port (within `timeoutMs`, default 1 s). */
export async function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Deno.connect({ hostname: host, port });
  const timeout = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), timeoutMs);
  });
  try {
    const conn = await Promise.race([connecting, timeout]);
    if (conn === "timeout") {
      connecting.then((c) => c.close(), () => {});
      return false;
    }
    conn.close();
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The last `n` lines of a text file (reads at most its last 256 KiB; "" when missing). */
export function tailLines(file: string, n: number): string {
  try {
    using f = Deno.openSync(file, { read: true });
    const size = f.statSync().size;
    const len = Math.min(size, 256 * 1024);
    f.seekSync(size - len, Deno.SeekMode.Start);
    const buf = new Uint8Array(len);
    let got = 0;
    while (got < len) {
      const r = f.readSync(buf.subarray(got));
      if (r === null || r === 0) break;
      got += r;
    }
    const text = new TextDecoder().decode(buf.subarray(0, got)).trimEnd();
    return text.split("\n").slice(-n).join("\n");
  } catch {
    return "";
  }
}

/** Pids of live processes whose command line contains `marker` as one argument. */
export function findByMarker(marker: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid !== Deno.pid && isOurs(pid, marker)) out.push(pid);
  }
  return out;
}
