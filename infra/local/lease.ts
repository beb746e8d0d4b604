/**
 * @module
 * Leases: every process that ensured the local servers leaves `<state>/leases/<pid>`, so a test
 * runner that started the servers does not stop them under another process still using them. A
 * lease whose process is gone does not count. When the starter has to leave them running, it writes
 * `<state>/autostop` so that the last user to leave stops them instead.
 */

import { isAlive } from "./process.ts";

let registered = false;

function leaseDir(stateDir: string): string {
  return `${stateDir}/leases`;
}

/** Records that this process uses the servers (removed again when the process exits). */
export function takeLease(stateDir: string): void {
  Deno.mkdirSync(leaseDir(stateDir), { recursive: true });
  Deno.writeTextFileSync(`${leaseDir(stateDir)}/${Deno.pid}`, `${Deno.pid}\n`);
  if (!registered) {
    registered = true;
    globalThis.addEventListener("unload", () => dropLease(stateDir));
  }
}

/** Removes this process's lease. */
export function dropLease(stateDir: string): void {
  try {
    Deno.removeSync(`${leaseDir(stateDir)}/${Deno.pid}`);
  } catch {
    // none
  }
}

/** Pids of other live processes holding a lease (stale lease files are removed). */
export function otherLeases(stateDir: string): number[] {
  const out: number[] = [];
  try {
    for (const e of Deno.readDirSync(leaseDir(stateDir))) {
      const pid = Number(e.name);
      if (!Number.isInteger(pid) || pid === Deno.pid) continue;
      if (isAlive(pid)) out.push(pid);
      else Deno.removeSync(`${leaseDir(stateDir)}/${e.name}`);
    }
  } catch {
    // no lease directory
  }
  return out;
}

/** Server names whose stop was handed over to the last user (see module doc). */
export function readAutostop(stateDir: string): string[] {
  try {
    return Deno.readTextFileSync(`${stateDir}/autostop`).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Replaces the hand-over list (an empty list removes the file). */
export function writeAutostop(stateDir: string, names: string[]): void {
  const file = `${stateDir}/autostop`;
  if (names.length > 0) Deno.writeTextFileSync(file, names.join("\n") + "\n");
  else {
    try {
      Deno.removeSync(file);
    } catch {
      // none
    }
  }
}
