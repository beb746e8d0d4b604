/**
 * @module
 * Starts, reuses and stops the local Kafka and Cassandra. Processes are detached (they outlive the
 * Deno process that started them), recognised as ours by pid file plus a command-line marker, and
 * started at most once even when several processes ask at the same time (a lock file).
 */

import { createLogger, type Logger } from "../../shared/log.ts";
import type { ServerDef, ServerName } from "./_server.ts";
import { cassandraServer } from "./cassandra_server.ts";
import { CASSANDRA_DIST, ensureJars, KAFKA_DIST } from "./jars.ts";
import { kafkaServer } from "./kafka_server.ts";
import { dropLease, otherLeases, readAutostop, takeLease, writeAutostop } from "./lease.ts";
import { withLock } from "./lock.ts";
import { type LocalPaths, localPaths, type LocalPorts, localPorts } from "./paths.ts";
import {
  findByMarker,
  isOurs,
  launchDetached,
  portOpen,
  readPid,
  stopPid,
  tailLines,
} from "./process.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server that did not become ready, or a port held by something else. */
export class LocalServerError extends Error {
  constructor(message: string, readonly logTail = "", options?: ErrorOptions) {
    super(message, options);
    this.name = "LocalServerError";
  }
}

/** How a server was found or brought up by {@linkcode ensureLocalServers}. */
export type ServerStatus = "started" | "running" | "foreign" | "skipped";

/** Options of {@linkcode ensureLocalServers}. */
export interface EnsureOptions {
  /** Ensure Kafka (default true). */
  kafka?: boolean;
  /** Ensure Cassandra (default true). */
  cassandra?: boolean;
  /** Stop our servers first (if running) and wipe their data (default false). */
  fresh?: boolean;
  /** How long each server may take to accept clients (default 180000 ms). */
  timeoutMs?: number;
  /**
   * When a port answers but the process is not ours: false (default) fails naming the port; true
   * uses that server if a client can talk to it (e.g. a developer's own Kafka on 9092).
   */
  allowForeign?: boolean;
  /** Cache and state directories (default from `EDU_CACHE_DIR` / `EDU_STATE_DIR`). */
  paths?: LocalPaths;
  /** Ports (default from `EDU_KAFKA_PORT`, `EDU_CASSANDRA_PORT`, ...: 9092, 9093, 9042, 7000, 7199). */
  ports?: LocalPorts;
  /** Logger for progress lines (default JSON lines on stderr, name `infra`). */
  log?: Logger;
}

/** What {@linkcode ensureLocalServers} did. */
export interface LocalServers {
  /** True when this call started at least one server. */
  started: boolean;
  /** Per server: started now, already running (ours), foreign, or not asked for. */
  status: Record<ServerName, ServerStatus>;
  /**
   * Stops the servers this call started (not those it found running), unless another live process
   * still uses them: then they stay up and the last user's `stop()` stops them.
   */
  stop(): Promise<void>;
}

function defs(paths: LocalPaths, ports: LocalPorts): Record<ServerName, ServerDef> {
  return { kafka: kafkaServer(paths, ports), cassandra: cassandraServer(paths, ports) };
}

async function waitReady(def: ServerDef, pid: number | undefined, timeoutMs: number, log: Logger) {
  const start = Date.now();
  let lastNote = start;
  while (Date.now() - start < timeoutMs) {
    if (pid !== undefined && !isOurs(pid, def.marker)) {
      throw new LocalServerError(
        `${def.title} exited during start-up; last lines of ${def.logFile}:`,
        tailLines(def.logFile, 40),
      );
    }
    if (await portOpen(def.host, def.clientPort, 500) && await def.ready()) return;
    if (Date.now() - lastNote > 15_000) {
      lastNote = Date.now();
      log.info("waiting for server", { server: def.name, elapsedMs: Date.now() - start });
    }
    await sleep(500);
  }
  throw new LocalServerError(
    `${def.title} did not accept clients within ${
      Math.round(timeoutMs / 1000)
    } s; last lines of ${def.logFile}:`,
    tailLines(def.logFile, 40),
  );
}

async function busyPort(def: ServerDef): Promise<number | undefined> {
  for (const port of def.ports) if (await portOpen(def.host, port, 500)) return port;
  return undefined;
}

async function stopOne(def: ServerDef, log: Logger, graceMs = 60_000): Promise<boolean> {
  const pids = new Set<number>();
  const pid = readPid(def.pidFile);
  if (isOurs(pid, def.marker)) pids.add(pid);
  for (const p of findByMarker(def.marker)) pids.add(p); // ours even if the pid file was lost
  for (const p of pids) {
    const how = await stopPid(p, { graceMs });
    log.info("stopped", {
      server: def.name,
      pid: p,
      signal: how === "kill" ? "SIGKILL" : "SIGTERM",
    });
  }
  await Deno.remove(def.pidFile).catch(() => {});
  // Gone means its ports are free too (a restart right away must be able to bind them).
  for (let i = 0; i < 100 && pids.size > 0 && await busyPort(def) !== undefined; i++) {
    await sleep(100);
  }
  return pids.size > 0;
}

async function rotateLog(file: string) {
  try {
    if ((await Deno.stat(file)).size > 50 * 1048576) await Deno.rename(file, `${file}.1`);
  } catch {
    // no log yet
  }
}

type Plan = { def: ServerDef; action: "start" | "running" | "foreign" };

async function inspect(def: ServerDef, opts: EnsureOptions, log: Logger): Promise<Plan> {
  if (opts.fresh) {
    await stopOne(def, log);
    await Deno.remove(def.dataDir, { recursive: true }).catch(() => {});
    log.info("wiped data", { server: def.name, dir: def.dataDir });
  }
  if (isOurs(readPid(def.pidFile), def.marker)) return { def, action: "running" };
  await Deno.remove(def.pidFile).catch(() => {});
  const port = await busyPort(def);
  if (port === undefined) return { def, action: "start" };
  if (opts.allowForeign && port === def.clientPort && await def.ready()) {
    return { def, action: "foreign" };
  }
  const stateDir = def.pidFile.replace(/\/pids\/[^/]+$/, "");
  throw new LocalServerError(
    `Port ${port} is already in use by another process (not the local ${def.title} of ` +
      `${stateDir}); stop that process or free port ${port}`,
  );
}

async function start(def: ServerDef, timeoutMs: number, log: Logger): Promise<void> {
  const t0 = Date.now();
  const { command, args } = await def.prepare();
  await Deno.mkdir(def.pidFile.replace(/\/[^/]+$/, ""), { recursive: true });
  await Deno.mkdir(def.logFile.replace(/\/[^/]+$/, ""), { recursive: true });
  await rotateLog(def.logFile);
  await Deno.writeTextFile(
    def.logFile,
    `=== edu-lambda: starting ${def.title} at ${new Date().toISOString()}\n`,
    {
      append: true,
    },
  );
  const pid = await launchDetached({ command, args, pidFile: def.pidFile, logFile: def.logFile });
  log.info("starting", { server: def.name, pid, log: def.logFile });
  try {
    await waitReady(def, pid, timeoutMs, log);
    await def.warmUp?.();
  } catch (e) {
    await stopOne(def, log, 10_000); // nothing half-starts
    throw e;
  }
  log.info("ready", { server: def.name, pid, port: def.clientPort, startMs: Date.now() - t0 });
}

/**
 * Makes sure the local Kafka (127.0.0.1:9092) and Cassandra (127.0.0.1:9042) accept clients,
 * starting those that are not running (in parallel, detached) and reusing those that are.
 * @throws {LocalServerError} when a port is held by something else, or a server does not become
 * ready within `timeoutMs` (its last 40 log lines are in `logTail`, and it is stopped again)
 */
export function ensureLocalServers(opts: EnsureOptions = {}): Promise<LocalServers> {
  const paths = opts.paths ?? localPaths();
  const log = opts.log ?? createLogger({ name: "infra" });
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const all = defs(paths, opts.ports ?? localPorts());
  const wanted = (["kafka", "cassandra"] as const).filter((n) => opts[n] !== false);
  const lockFile = `${paths.stateDir}/.lock`;
  return withLock(lockFile, async () => {
    const plans = await Promise.all(wanted.map((n) => inspect(all[n], opts, log)));
    // Fetch jars one distribution at a time (readable progress, no parallel mvn on ~/.m2).
    for (const p of plans) {
      if (p.action === "start") {
        await ensureJars(p.def.name === "kafka" ? KAFKA_DIST : CASSANDRA_DIST, { paths });
      }
    }
    const results = await Promise.allSettled(plans.map(async (p) => {
      if (p.action === "start") await start(p.def, timeoutMs, log);
      else if (p.action === "running") {
        await waitReady(p.def, readPid(p.def.pidFile), timeoutMs, log);
        log.info("already running", { server: p.def.name, pid: readPid(p.def.pidFile) });
      } else {log.info("using a server that is not ours", {
          server: p.def.name,
          port: p.def.clientPort,
        });}
    }));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    const startedDefs = plans.filter((p, i) =>
      p.action === "start" && results[i].status === "fulfilled"
    )
      .map((p) => p.def);
    if (failed) {
      for (const d of startedDefs) await stopOne(d, log);
      throw failed.reason;
    }
    const status: Record<ServerName, ServerStatus> = { kafka: "skipped", cassandra: "skipped" };
    for (const p of plans) status[p.def.name] = p.action === "start" ? "started" : p.action;
    takeLease(paths.stateDir);
    return {
      started: startedDefs.length > 0,
      status,
      stop: () =>
        withLock(lockFile, async () => {
          dropLease(paths.stateDir);
          const names = new Set<ServerName>(startedDefs.map((d) => d.name));
          for (const n of readAutostop(paths.stateDir)) names.add(n as ServerName);
          if (names.size === 0) return;
          const users = otherLeases(paths.stateDir);
          if (users.length > 0) {
            writeAutostop(paths.stateDir, [...names]);
            log.info("left running: still used by other processes", {
              servers: [...names],
              pids: users,
            });
            return;
          }
          for (const n of names) if (all[n]) await stopOne(all[n], log);
          writeAutostop(paths.stateDir, []);
        }),
    };
  }, timeoutMs + 120_000);
}

/** Options of the stop functions. */
export interface StopServersOptions {
  paths?: LocalPaths;
  ports?: LocalPorts;
  log?: Logger;
  /** SIGTERM grace period before SIGKILL (default 60000 ms). */
  graceMs?: number;
}

async function stopNames(names: ServerName[], opts: StopServersOptions): Promise<ServerName[]> {
  const paths = opts.paths ?? localPaths();
  const log = opts.log ?? createLogger({ name: "infra" });
  const all = defs(paths, opts.ports ?? localPorts());
  return await withLock(`${paths.stateDir}/.lock`, async () => {
    const done = await Promise.all(names.map((n) => stopOne(all[n], log, opts.graceMs)));
    writeAutostop(
      paths.stateDir,
      readAutostop(paths.stateDir).filter((n) => !names.includes(n as ServerName)),
    );
    return names.filter((_, i) => done[i]);
  });
}

/** Stops our local Kafka and Cassandra (SIGTERM, then SIGKILL) and waits until they are gone. */
export function stopLocalServers(opts: StopServersOptions = {}): Promise<ServerName[]> {
  return stopNames(["kafka", "cassandra"], opts);
}

/** Stops our local Cassandra only (e.g. a test of the speed layer riding out an outage). */
export async function stopCassandra(opts: StopServersOptions = {}): Promise<void> {
  await stopNames(["cassandra"], opts);
}

/** Starts our local Cassandra again (or reuses it) and waits until it accepts clients. */
export async function startCassandra(
  opts: Omit<EnsureOptions, "kafka" | "cassandra"> = {},
): Promise<void> {
  await ensureLocalServers({ ...opts, kafka: false, cassandra: true });
}
