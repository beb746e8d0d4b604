/**
 * @module
 * `deno task infra:up [--fresh] [--timeout SECONDS]`, `deno task infra:down`, and
 * `deno run -A infra/local/main.ts status`: the local Kafka and Cassandra.
 */

import { parseArgs } from "node:util";
import { createLogger } from "../../shared/log.ts";
import { dropLease, writeAutostop } from "./lease.ts";
import { localPaths, localPorts } from "./paths.ts";
import { isOurs, readPid, rssBytes } from "./process.ts";
import { ensureLocalServers, LocalServerError, stopLocalServers } from "./servers.ts";
import { stateFiles } from "./_server.ts";

const log = createLogger({ name: "infra" });

function status(): void {
  const paths = localPaths();
  for (const name of ["kafka", "cassandra"] as const) {
    const f = stateFiles(paths, name);
    const pid = readPid(f.pidFile);
    const running = isOurs(pid, f.marker);
    const rss = running ? rssBytes(pid) : undefined;
    log.info(running ? "running" : "not running", {
      server: name,
      pid: running ? pid : undefined,
      rssMiB: rss === undefined ? undefined : Math.round(rss / 1048576),
      log: f.logFile,
    });
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { fresh: { type: "boolean", default: false }, timeout: { type: "string" } },
  });
  const cmd = positionals[0];
  if (cmd === "up") {
    const timeoutS = Number(values.timeout ?? 180);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
      console.error(`Invalid --timeout ${JSON.stringify(values.timeout)}: expected seconds > 0`);
      return 2;
    }
    const t0 = Date.now();
    const ports = localPorts();
    const r = await ensureLocalServers({ fresh: values.fresh, timeoutMs: timeoutS * 1000, log });
    writeAutostop(localPaths().stateDir, []); // asked for explicitly: no test run stops them
    dropLease(localPaths().stateDir);
    log.info(r.started ? "local servers up" : "already running", {
      kafka: r.status.kafka,
      cassandra: r.status.cassandra,
      kafkaBootstrap: `127.0.0.1:${ports.kafka}`,
      cassandraContactPoint: `127.0.0.1:${ports.cassandra}`,
      elapsedMs: Date.now() - t0,
    });
    status();
    return 0;
  }
  if (cmd === "down") {
    const stopped = await stopLocalServers({ log });
    log.info(stopped.length ? "local servers down" : "nothing of ours was running", { stopped });
    return 0;
  }
  if (cmd === "status") {
    status();
    return 0;
  }
  console.error(
    "usage: deno run -A infra/local/main.ts up [--fresh] [--timeout SECONDS] | down | status",
  );
  return 2;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (e instanceof LocalServerError) {
      console.error(e.message);
      if (e.logTail) console.error(e.logTail);
    } else {
      console.error(e instanceof Error ? e.message : String(e));
    }
    Deno.exit(1);
  }
}
