import assert from "node:assert/strict";
import { FileRunLocks, lockFileName } from "./lock.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a held run lock cannot be taken by another holder until it is released", () =>
  withDir(async (dir) => {
    const a = new FileRunLocks(dir, { owner: "a", now: () => 0 });
    const b = new FileRunLocks(dir, { owner: "b" });
    const held = await a.tryAcquire(["hourly:2026-11-20T05"]);
    assert.ok(held);
    assert.equal(await b.tryAcquire(["hourly:2026-11-20T05"]), null);
    const holder = await b.holder("hourly:2026-11-20T05");
    assert.equal(holder?.owner, "a");
    assert.equal(holder?.pid, Deno.pid);
    assert.equal(holder?.since, "1970-01-01T00:00:00.000Z");
    await held.release();
    const again = await b.tryAcquire(["hourly:2026-11-20T05"]);
    assert.ok(again);
    await again.release();
  }));

Deno.test("several locks are taken all or none", () =>
  withDir(async (dir) => {
    const a = new FileRunLocks(dir, { owner: "a" });
    const b = new FileRunLocks(dir, { owner: "b" });
    const one = await a.tryAcquire(["k2"]);
    assert.ok(one);
    assert.equal(await b.tryAcquire(["k1", "k2", "k3"]), null);
    // k1 was released again when k2 turned out busy.
    const k1 = await a.tryAcquire(["k1"]);
    assert.ok(k1);
    await Promise.all([one.release(), k1.release()]);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  }));

Deno.test("a lock held by a process that died is free again", () =>
  withDir(async (dir) => {
    const code = `
      const f = await Deno.open(${JSON.stringify(`${dir}/${lockFileName("daily:2026-11-20")}`)},
        { read: true, write: true, create: true });
      if (!(await f.tryLock(true))) Deno.exit(9);
      console.log("locked");
      setInterval(() => {}, 1000);`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value?.trim(), "locked");
    const me = new FileRunLocks(dir, { owner: "me" });
    assert.equal(await me.tryAcquire(["daily:2026-11-20"]), null);
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    const held = await me.tryAcquire(["daily:2026-11-20"]);
    assert.ok(held, "the kernel released the dead holder's lock");
    await held.release();
  }));

Deno.test("lock file names are safe", () => {
  assert.equal(lockFileName("hourly:2026-11-20T05"), "hourly_2026-11-20T05.lock");
  assert.equal(lockFileName("../x"), ".._x.lock");
});
