import assert from "node:assert/strict";
import { hostname } from "node:os";
import { FakeSpawner } from "./_testing.ts";
import { type ChildRecord, ChildRegistry, processStart } from "./orphans.ts";

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A detached `sh` (own process group) with a background grandchild; returns both pids. */
async function spawnGroup(): Promise<{ child: Deno.ChildProcess; grandchild: number }> {
  const child = new Deno.Command("sh", {
    args: ["-c", "sleep 300 & echo $! ; exec sleep 300"],
    detached: true,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const grandchild = Number((await reader.read()).value?.trim());
  reader.releaseLock();
  return { child, grandchild };
}

function record(pid: number, parentPid: number, parentStart: string): ChildRecord {
  return {
    pid,
    start: processStart(pid)!,
    parentPid,
    parentStart,
    host: hostname(),
    command: "sh -c …",
  };
}

Deno.test("the process group of a child whose orchestrator died is stopped at start", () =>
  withDir(async (dir) => {
    const { child, grandchild } = await spawnGroup();
    const gone = new Deno.Command("true").spawn();
    const deadParent = gone.pid;
    await gone.status;
    await Deno.writeTextFile(
      `${dir}/${child.pid}.json`,
      JSON.stringify(record(child.pid, deadParent, "1")),
    );
    assert.ok(alive(child.pid) && alive(grandchild));
    const stopped = await new ChildRegistry(dir).reapOrphans({ graceMs: 10_000 });
    assert.deepEqual(stopped, [child.pid]);
    assert.equal((await child.status).signal, "SIGTERM");
    for (let i = 0; i < 500 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!alive(grandchild), "the grandchild was stopped too");
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  }));

Deno.test("children of a live orchestrator are left alone", () =>
  withDir(async (dir) => {
    const { child, grandchild } = await spawnGroup();
    try {
      await Deno.writeTextFile(
        `${dir}/${child.pid}.json`,
        JSON.stringify(record(child.pid, Deno.pid, processStart(Deno.pid)!)),
      );
      assert.deepEqual(await new ChildRegistry(dir).reapOrphans({ graceMs: 10_000 }), []);
      assert.ok(alive(child.pid) && alive(grandchild));
      assert.equal([...Deno.readDirSync(dir)].length, 1);
    } finally {
      Deno.kill(-child.pid, "SIGKILL");
      await child.status;
    }
  }));

Deno.test("a record whose pid now belongs to another process is dropped without a signal", () =>
  withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/${Deno.pid}.json`,
      JSON.stringify({ ...record(Deno.pid, 1, "1"), start: "12345" }),
    );
    assert.deepEqual(await new ChildRegistry(dir).reapOrphans({ graceMs: 10 }), []);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  }));

Deno.test("a wrapped spawner records each child while it runs", () =>
  withDir(async (dir) => {
    const fake = new FakeSpawner();
    const handle = new ChildRegistry(`${dir}/children`).wrap(fake).spawn({
      command: "deno",
      args: ["task", "process"],
    });
    const rec = JSON.parse(await Deno.readTextFile(`${dir}/children/${handle.pid}.json`));
    assert.equal(rec.parentPid, Deno.pid);
    assert.equal(rec.command, "deno task process");
    fake.children[0].exit(0);
    await handle.exited;
    for (let i = 0; i < 100 && [...Deno.readDirSync(`${dir}/children`)].length > 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual([...Deno.readDirSync(`${dir}/children`)], []);
  }));
