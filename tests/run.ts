/**
 * @module
 * `deno task test [args...]`: makes sure the local Kafka and Cassandra run (starting them when they
 * do not), runs `deno test -A --permit-no-files [args...]` over the repository, stops the servers
 * again if it started them (unless `KEEP_SERVERS=1`), and exits with deno test's exit code.
 * `EDU_SERVERS=external` skips the local servers (use what the environment points to).
 */

import { createLogger } from "../shared/log.ts";
import { ensureLocalServers, type LocalServers } from "../infra/local/mod.ts";

const log = createLogger({ name: "test-runner" });

async function main(args: string[]): Promise<number> {
  let servers: LocalServers | undefined;
  if (Deno.env.get("EDU_SERVERS") !== "external") {
    const t0 = Date.now();
    try {
      servers = await ensureLocalServers({ allowForeign: true, log });
    } catch (e) {
      console.error((e as Error).message);
      const tail = (e as { logTail?: string }).logTail;
      if (tail) console.error(tail);
      return 1;
    }
    log.info("servers ready", { ...servers.status, ms: Date.now() - t0 });
  }
  const keep = Deno.env.get("KEEP_SERVERS") === "1";
  const stopIfStarted = async () => {
    if (!servers) return;
    if (keep) {
      if (servers.started) {
        log.info("KEEP_SERVERS=1: leaving the servers running (deno task infra:down stops them)");
      }
      return;
    }
    await servers.stop(); // no-op unless started here (or handed over); never under another user
  };

  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--permit-no-files", ...args],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const status = await child.status;
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  await stopIfStarted();
  if (interrupted) return 130;
  return status.code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
