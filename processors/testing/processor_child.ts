/**
 * @module
 * Runs `deno task process` (processors/main.ts) as a child process for tests and benchmarks: its
 * own environment, a free health port, its JSON log lines kept in memory, and signals by pid.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { HealthReport } from "../runtime/runtime.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A running processor. */
export interface ProcessorChild {
  pid: number;
  port: number;
  /** Exit status once it exited. */
  status: Promise<Deno.CommandStatus>;
  /** The last log lines (stdout and stderr), newest last. */
  logs: string[];
  health(): Promise<HealthReport>;
  metrics(): Promise<string>;
  resetLatency(): Promise<void>;
  kill(signal: Deno.Signal): void;
}

/** Options of {@link startProcessor}. */
export interface StartProcessorOptions {
  /** `--jobs`; default the configuration's jobs. */
  jobs?: readonly string[];
  /** Log lines kept; default 400. */
  keepLines?: number;
  /** Also write every line here (a file path). */
  logFile?: string;
  /** Wait until /health answers; default true. */
  waitHealthy?: boolean;
  /** Extra `deno run` flags, e.g. `--cpu-prof`. */
  denoFlags?: readonly string[];
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  logs: string[],
  keep: number,
  file: Deno.FsFile | undefined,
) {
  const dec = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    if (file) await file.write(chunk);
    rest += dec.decode(chunk, { stream: true });
    const lines = rest.split("\n");
    rest = lines.pop()!;
    for (const l of lines) {
      logs.push(l);
      if (logs.length > keep) logs.shift();
    }
  }
}

/**
 * Starts the processors with `env` (added to this process's environment) and a free
 * `HEALTH_PORT`.
 */
export async function startProcessor(
  env: Record<string, string>,
  options: StartProcessorOptions = {},
): Promise<ProcessorChild> {
  const port = freePort();
  const args = ["run", "-A", ...(options.denoFlags ?? []), MAIN];
  if (options.jobs) args.push("--jobs", options.jobs.join(","));
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { ...env, HEALTH_PORT: String(port) },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  const keep = options.keepLines ?? 400;
  const file = options.logFile
    ? await Deno.open(options.logFile, { create: true, append: true })
    : undefined;
  const pumps = Promise.all([
    pump(child.stdout, logs, keep, file),
    pump(child.stderr, logs, keep, file),
  ]);
  const status = child.status.then(async (s) => {
    await pumps.catch(() => {});
    file?.close();
    return s;
  });
  const base = `http://127.0.0.1:${port}`;
  const p: ProcessorChild = {
    pid: child.pid,
    port,
    status,
    logs,
    async health() {
      const r = await fetch(`${base}/health`);
      return await r.json();
    },
    async metrics() {
      const r = await fetch(`${base}/metrics`);
      return await r.text();
    },
    async resetLatency() {
      const r = await fetch(`${base}/latency/reset`, { method: "POST" });
      await r.body?.cancel();
    },
    kill(signal) {
      try {
        Deno.kill(child.pid, signal);
      } catch { /* exited already */ }
    },
  };
  if (options.waitHealthy !== false) {
    let exited = false;
    status.then(() => exited = true);
    for (let i = 0; i < 600 && !exited; i++) {
      try {
        await p.health();
        return p;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(
      `processor did not become healthy (exited: ${exited}):\n${logs.slice(-30).join("\n")}`,
    );
  }
  return p;
}

/**
 * Polls the child's /health every 100 ms until `ok` holds, and returns that report.
 * @throws {Error} with the child's last log lines when `timeoutMs` (default 60000) passes first
 */
export async function untilHealth(
  p: ProcessorChild,
  ok: (h: HealthReport) => boolean,
  timeoutMs = 60_000,
): Promise<HealthReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = await p.health().catch(() => undefined);
    if (h && ok(h)) return h;
    if (Date.now() > deadline) {
      throw new Error(`condition not reached:\n${p.logs.slice(-20).join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops the child with SIGTERM and asserts that it exited with code 0. */
export async function stopCleanly(p: ProcessorChild, message?: string): Promise<void> {
  p.kill("SIGTERM");
  assertEquals((await p.status).code, 0, message);
}

/** After a failure: prints the child's last `lines` log lines, SIGKILLs it and waits for it. */
export async function abandon(p: ProcessorChild, lines = 30): Promise<void> {
  console.error(p.logs.slice(-lines).join("\n"));
  p.kill("SIGKILL");
  await p.status;
}
