import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { acquireLock, LockBusyError } from "./lock.ts";

Deno.test("a lock is exclusive until released", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await acquireLock(`${dir}/x.lock`, { purpose: "first" });
    await rejects(
      acquireLock(`${dir}/x.lock`),
      (e: Error) =>
        e instanceof LockBusyError && e.message.includes(`pid ${Deno.pid}`) &&
        e.message.includes("first"),
    );
    await a.release();
    const b = await acquireLock(`${dir}/x.lock`);
    await b.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a lock of a dead process or past staleMs is taken over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/x.lock`;
    // pid 2^22+1 is above Linux's pid_max default: no such process.
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        pid: 4_194_305,
        host: Deno.hostname(),
        procStart: "1",
        acquiredAt: new Date().toISOString(),
        purpose: "dead",
      }),
    );
    const a = await acquireLock(path);
    assertEquals(JSON.parse(await Deno.readTextFile(path)).pid, Deno.pid);
    await a.release();
    // a live holder (this process, with another start time written) older than staleMs
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        pid: Deno.pid,
        host: "elsewhere",
        procStart: "",
        acquiredAt: "",
        purpose: "old",
      }),
    );
    await rejects(acquireLock(path, { staleMs: 60_000 }), LockBusyError);
    const b = await acquireLock(path, { staleMs: 60_000, now: () => Date.now() + 120_000 });
    await b.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("waiting for a lock gets it once the holder releases", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = await acquireLock(`${dir}/x.lock`);
    const waiting = acquireLock(`${dir}/x.lock`, { waitMs: 60_000, pollMs: 5 });
    await a.release();
    const b = await waiting;
    await b.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
