/**
 * @module
 * Children left behind by an orchestrator that was killed outright (SIGKILL, OOM killer): Deno has
 * no parent-death signal, so its stream child would run on, holding HEALTH_PORT and its Kafka
 * partitions. Each child is recorded in `OUTPUTS_DIR/_orchestrator_children/<pid>.json` while it
 * runs; at start an orchestrator stops the process group of every recorded child whose parent is
 * gone. Children of a live orchestrator (another one sharing the directory) are left alone.
 */
import { join } from "node:path";
import { hostname } from "node:os";
import type { Logger } from "../shared/log.ts";
import type { ChildHandle, ChildSpec, Spawner } from "./process.ts";

/** What a child record holds. */
export interface ChildRecord {
  pid: number;
  /** Start time of the child from `/proc/<pid>/stat` (clock ticks since boot). */
  start: string;
  parentPid: number;
  parentStart: string;
  host: string;
  command: string;
}

/** Start time of a process (field 22 of `/proc/<pid>/stat`), or null when it does not exist. */
export function processStart(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function groupExists(pgid: number): boolean {
  try {
    Deno.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Records the children of this process so a later orchestrator can stop them if we die. */
export class ChildRegistry {
  readonly dir: string;

  /** @param dir e.g. `OUTPUTS_DIR/_orchestrator_children` (created when missing) */
  constructor(dir: string) {
    this.dir = dir;
  }

  /** A spawner that records each child while it runs. */
  wrap(spawner: Spawner): Spawner {
    return {
      spawn: (spec: ChildSpec): ChildHandle => {
        const child = spawner.spawn(spec);
        const path = join(this.dir, `${child.pid}.json`);
        const record: ChildRecord = {
          pid: child.pid,
          start: processStart(child.pid) ?? "",
          parentPid: Deno.pid,
          parentStart: processStart(Deno.pid) ?? "",
          host: hostname(),
          command: [spec.command, ...spec.args].join(" "),
        };
        try {
          Deno.mkdirSync(this.dir, { recursive: true });
          Deno.writeTextFileSync(path, JSON.stringify(record));
        } catch {
          // Best effort: without the record only the SIGKILL case loses its clean-up.
        }
        child.exited.finally(() => Deno.remove(path).catch(() => {}));
        return child;
      },
    };
  }

  /**
   * Stops the process groups of recorded children whose orchestrator is gone: SIGTERM, then
   * SIGKILL after `graceMs`. Records of finished children are removed.
   * @returns the pids that were stopped
   */
  async reapOrphans(options: { graceMs: number; log?: Logger }): Promise<number[]> {
    const stopped: number[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.dir)];
    } catch {
      return stopped;
    }
    const me = hostname();
    for (const e of entries) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const path = join(this.dir, e.name);
      let rec: ChildRecord;
      try {
        rec = JSON.parse(await Deno.readTextFile(path));
      } catch {
        continue;
      }
      if (rec.host !== me) continue;
      const parentAlive = processStart(rec.parentPid) === rec.parentStart && rec.parentStart !== "";
      if (parentAlive) continue;
      const leaderStart = processStart(rec.pid);
      // A live leader with another start time is an unrelated process that reused the pid. A dead
      // leader's group can still hold its children: a pgid is never reused while the group exists.
      const ours = leaderStart === null ? groupExists(rec.pid) : leaderStart === rec.start;
      if (ours && groupExists(rec.pid)) {
        options.log?.warn("stopping a child left by an orchestrator that died", {
          pid: rec.pid,
          command: rec.command,
          parentPid: rec.parentPid,
        });
        try {
          Deno.kill(-rec.pid, "SIGTERM");
        } catch { /* gone */ }
        const deadline = Date.now() + options.graceMs;
        while (groupExists(rec.pid) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
        }
        try {
          Deno.kill(-rec.pid, "SIGKILL");
        } catch { /* gone */ }
        stopped.push(rec.pid);
      }
      await Deno.remove(path).catch(() => {});
    }
    return stopped;
  }
}
