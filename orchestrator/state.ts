/**
 * @module
 * Where the {@link SchedulerState} lives. The file store keeps it in
 * `OUTPUTS_DIR/_orchestrator_state.json`, written atomically (temp file, fsync, rename) and updated
 * read-modify-write under an exclusive `flock` on `_orchestrator_state.lock`, so orchestrators that
 * share the directory never lose each other's updates.
 */
import { join } from "node:path";
import { emptyState, type SchedulerState } from "./scheduler.ts";

/** File name of the state, under OUTPUTS_DIR. */
export const STATE_FILE = "_orchestrator_state.json";
const STATE_LOCK_FILE = "_orchestrator_state.lock";

/** Persistence of the scheduler state. */
export interface StateStore {
  /** The current state (an empty state when none was ever written). */
  load(): Promise<SchedulerState>;
  /** Applies `change` to the current state atomically and returns the new state. */
  update(change: (state: SchedulerState) => SchedulerState): Promise<SchedulerState>;
}

/** A state file that cannot be read as a scheduler state. */
export class StateFileError extends Error {
  constructor(readonly path: string, detail: string, options?: ErrorOptions) {
    super(`Cannot read orchestrator state ${path}: ${detail}`, options);
    this.name = "StateFileError";
  }
}

function parseState(path: string, text: string): SchedulerState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new StateFileError(path, "not JSON", { cause: e });
  }
  const v = value as Partial<SchedulerState> | null;
  if (
    typeof v !== "object" || v === null || v.version !== 1 || typeof v.cursors !== "object" ||
    v.cursors === null || typeof v.slots !== "object" || v.slots === null ||
    typeof v.last !== "object" || v.last === null
  ) {
    throw new StateFileError(path, "expected {version: 1, cursors, slots, last}");
  }
  return v as SchedulerState;
}

/** Writes `text` to `path` atomically: a unique temp file in the same directory, fsync, rename. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID()}`;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      const bytes = new TextEncoder().encode(text);
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** The state in a JSON file under `dir`, shared safely by processes on the same file system. */
export class FileStateStore implements StateStore {
  readonly path: string;
  readonly #lockPath: string;

  /** @param dir the directory (OUTPUTS_DIR); created when missing */
  constructor(dir: string) {
    this.path = join(dir, STATE_FILE);
    this.#lockPath = join(dir, STATE_LOCK_FILE);
  }

  async load(): Promise<SchedulerState> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return emptyState();
      throw new StateFileError(this.path, String(e), { cause: e });
    }
    return parseState(this.path, text);
  }

  async update(change: (state: SchedulerState) => SchedulerState): Promise<SchedulerState> {
    await Deno.mkdir(join(this.path, ".."), { recursive: true });
    // The lock file is never removed, so every process locks the same inode.
    const lock = await Deno.open(this.#lockPath, { read: true, write: true, create: true });
    try {
      await lock.lock(true);
      const next = change(await this.load());
      await writeFileAtomic(this.path, JSON.stringify(next, null, 1) + "\n");
      return next;
    } finally {
      lock.close(); // releases the flock
    }
  }
}

/** The state in memory (unit tests). */
export class MemoryStateStore implements StateStore {
  #state: SchedulerState;

  constructor(initial: SchedulerState = emptyState()) {
    this.#state = structuredClone(initial);
  }

  load(): Promise<SchedulerState> {
    return Promise.resolve(structuredClone(this.#state));
  }

  update(change: (state: SchedulerState) => SchedulerState): Promise<SchedulerState> {
    this.#state = structuredClone(change(structuredClone(this.#state)));
    return Promise.resolve(structuredClone(this.#state));
  }
}
