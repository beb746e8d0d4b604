import assert from "node:assert/strict";
import { emptyState } from "./scheduler.ts";
import { FileStateStore, STATE_FILE, StateFileError } from "./state.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a missing state file reads as an empty state", () =>
  withDir(async (dir) => {
    assert.deepEqual(await new FileStateStore(dir).load(), emptyState());
  }));

Deno.test("updates are persisted and seen by another store on the same directory", () =>
  withDir(async (dir) => {
    await new FileStateStore(dir).update((s) => ({ ...s, cursors: { hourly: 42 } }));
    assert.equal((await new FileStateStore(dir).load()).cursors.hourly, 42);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["_orchestrator_state.json", "_orchestrator_state.lock"]);
  }));

Deno.test("concurrent read-modify-write updates from two stores lose nothing", () =>
  withDir(async (dir) => {
    const a = new FileStateStore(dir);
    const b = new FileStateStore(dir);
    const bump = (s: ReturnType<typeof emptyState>) => ({
      ...s,
      cursors: { hourly: (s.cursors.hourly ?? 0) + 1 },
    });
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).update(bump)));
    assert.equal((await a.load()).cursors.hourly, 40);
  }));

Deno.test("a state file that is not a state is reported with its path", () =>
  withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/${STATE_FILE}`, "{not json");
    await assert.rejects(new FileStateStore(dir).load(), StateFileError);
    await Deno.writeTextFile(`${dir}/${STATE_FILE}`, '{"version": 2}');
    await assert.rejects(new FileStateStore(dir).load(), (e: Error) => {
      assert.ok(e.message.includes(STATE_FILE));
      return true;
    });
  }));
