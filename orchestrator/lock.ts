/**
 * @module
 * Run locks: at most one orchestrator runs a given batch slot at a time, across processes that
 * share OUTPUTS_DIR. A lock is an exclusive, non-blocking `flock` on
 * `OUTPUTS_DIR/_orchestrator_locks/<key>.lock`. The kernel releases it when the holder's process
 * dies, so a crashed orchestrator never leaves a stale lock behind and no staleness timeout is
 * needed; the file holds the holder's pid, host and start time for diagnosis only.
 *
 * Removing a lock file on release races with a process that opened the old file just before: after
 * locking, the taker checks that the path still names the inode it locked, and retries otherwise.
 */
import { join } from "node:path";
import { hostname } from "node:os";

/** A set of held locks. */
export interface HeldLocks {
  readonly keys: readonly string[];
  release(): Promise<void>;
}

/** Who holds a lock, as written in its file. */
export interface LockHolder {
  pid: number;
  host: string;
  owner: string;
  since: string;
}

/** Mutual exclusion of batch runs. */
export interface RunLocks {
  /** Takes every lock of `keys` or none; null when one is held by someone else. */
  tryAcquire(keys: readonly string[]): Promise<HeldLocks | null>;
  /** Who holds `key`, when known. */
  holder(key: string): Promise<LockHolder | null>;
}

/** A key as a file name: `hourly:2026-11-20T05` → `hourly_2026-11-20T05`. */
export function lockFileName(key: string): string {
  return `${key.replace(/[^A-Za-z0-9._-]/g, "_")}.lock`;
}

/** Run locks as `flock`ed files under `dir`. */
export class FileRunLocks implements RunLocks {
  readonly dir: string;
  readonly #owner: string;
  readonly #now: () => number;

  /**
   * @param dir the lock directory, e.g. `OUTPUTS_DIR/_orchestrator_locks` (created when missing)
   * @param options `owner` (written into the file), `now` (default `Date.now`)
   */
  constructor(dir: string, options: { owner: string; now?: () => number }) {
    this.dir = dir;
    this.#owner = options.owner;
    this.#now = options.now ?? Date.now;
  }

  async tryAcquire(keys: readonly string[]): Promise<HeldLocks | null> {
    await Deno.mkdir(this.dir, { recursive: true });
    const held: { path: string; file: Deno.FsFile }[] = [];
    const releaseAll = async () => {
      for (const h of held.splice(0).reverse()) {
        await Deno.remove(h.path).catch(() => {});
        h.file.close();
      }
    };
    for (const key of keys) {
      const path = join(this.dir, lockFileName(key));
      const file = await this.#lockOne(path);
      if (!file) {
        await releaseAll();
        return null;
      }
      held.push({ path, file });
    }
    return { keys: [...keys], release: releaseAll };
  }

  async #lockOne(path: string): Promise<Deno.FsFile | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const file = await Deno.open(path, { read: true, write: true, create: true });
      if (!(await file.tryLock(true))) {
        file.close();
        return null;
      }
      const [mine, named] = await Promise.all([file.stat(), Deno.stat(path).catch(() => null)]);
      if (named === null || named.ino !== mine.ino || named.dev !== mine.dev) {
        file.close(); // the holder removed it while we opened it: lock the new file instead
        continue;
      }
      const info: LockHolder = {
        pid: Deno.pid,
        host: hostname(),
        owner: this.#owner,
        since: new Date(this.#now()).toISOString(),
      };
      await file.truncate(0);
      await file.write(new TextEncoder().encode(JSON.stringify(info) + "\n"));
      return file;
    }
    return null;
  }

  async holder(key: string): Promise<LockHolder | null> {
    try {
      const text = await Deno.readTextFile(join(this.dir, lockFileName(key)));
      return JSON.parse(text) as LockHolder;
    } catch {
      return null;
    }
  }
}
