/**
 * @module
 * Exclusive lock files: created with O_EXCL (`createNew`), holding the owner's pid, host and start
 * time. A lock whose owner process is gone (same host, no `/proc/<pid>` or a different process
 * start time there) or that is older than `staleMs` is stale and taken over; the takeover renames
 * the stale file aside and checks that what it moved is the stale lock it judged, so two
 * processes cannot both take over the same lock.
 */

/** What a lock file holds. */
export interface LockOwner {
  pid: number;
  host: string;
  /** Process start time from `/proc/<pid>/stat` (clock ticks), "" when unknown. */
  procStart: string;
  acquiredAt: string;
  purpose: string;
}

/** The lock is held by another live process (and the caller asked not to wait, or waited too long). */
export class LockBusyError extends Error {
  constructor(readonly path: string, readonly owner: LockOwner | undefined, waitedMs: number) {
    super(
      `Lock ${path} is held by ${
        owner
          ? `pid ${owner.pid} on ${owner.host} (${owner.purpose}, since ${owner.acquiredAt})`
          : "another process"
      }${waitedMs > 0 ? `; gave up after waiting ${Math.round(waitedMs / 1000)} s` : ""}`,
    );
    this.name = "LockBusyError";
  }
}

/** Options of {@link acquireLock}. */
export interface LockOptions {
  /** Written into the lock for the busy message, e.g. "batch 2026-11-20". */
  purpose?: string;
  /** How long to wait for a busy lock; default 0 (fail at once). */
  waitMs?: number;
  /** Poll interval while waiting; default 200 ms. */
  pollMs?: number;
  /** A lock older than this is stale whatever its owner; default 6 hours. */
  staleMs?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

/** A held lock. */
export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

function procStart(pid: number): string {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 22 (starttime) after the parenthesised command name.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

function alive(owner: LockOwner): boolean {
  if (owner.host !== Deno.hostname()) return true; // cannot tell; rely on staleMs
  try {
    Deno.statSync(`/proc/${owner.pid}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    return true;
  }
  return owner.procStart === "" || procStart(owner.pid) === owner.procStart;
}

async function readOwner(path: string): Promise<{ text: string; owner?: LockOwner } | undefined> {
  try {
    const text = await Deno.readTextFile(path);
    try {
      return { text, owner: JSON.parse(text) as LockOwner };
    } catch {
      return { text };
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the lock at `path`, creating its directory.
 * @throws {LockBusyError} when a live owner holds it beyond `waitMs`
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<Lock> {
  const now = options.now ?? Date.now;
  const staleMs = options.staleMs ?? 6 * 3_600_000;
  const waitMs = options.waitMs ?? 0;
  const started = now();
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const me: LockOwner = {
    pid: Deno.pid,
    host: Deno.hostname(),
    procStart: procStart(Deno.pid),
    acquiredAt: new Date(now()).toISOString(),
    purpose: options.purpose ?? "",
  };
  const text = JSON.stringify(me);
  for (;;) {
    try {
      const f = await Deno.open(path, { write: true, createNew: true });
      try {
        await f.write(new TextEncoder().encode(text));
      } finally {
        f.close();
      }
      return {
        path,
        async release() {
          const cur = await readOwner(path);
          if (cur?.text === text) await Deno.remove(path).catch(() => {});
        },
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const cur = await readOwner(path);
    if (!cur) continue; // released meanwhile
    let age = 0;
    try {
      age = now() - ((await Deno.stat(path)).mtime?.getTime() ?? now());
    } catch { /* gone: retry */ }
    const stale = cur.owner === undefined
      ? age > 10_000 // unreadable (crashed mid-write): stale after a moment
      : !alive(cur.owner) || age > staleMs;
    if (stale) {
      const aside = `${path}.stale-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
      try {
        await Deno.rename(path, aside);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        throw e;
      }
      const moved = await readOwner(aside);
      if (moved?.text === cur.text) {
        await Deno.remove(aside).catch(() => {});
      } else {
        // We moved a fresh lock someone took meanwhile: put it back unless the path is retaken.
        await Deno.link(aside, path).catch(() => {});
        await Deno.remove(aside).catch(() => {});
      }
      continue;
    }
    const waited = now() - started;
    if (waited >= waitMs) throw new LockBusyError(path, cur.owner, waited);
    await sleep(Math.min(options.pollMs ?? 200, Math.max(1, waitMs - waited)));
  }
}

/** Runs `fn` while holding the lock at `path`. */
export async function withLock<T>(
  path: string,
  options: LockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
