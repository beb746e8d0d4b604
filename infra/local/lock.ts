/**
 * @module
 * A cross-process lock file, so two processes (two test runs, a test run and `infra:up`) never
 * start the same server twice. A lock whose holder is dead is taken over.
 */

import { isAlive, readPid } from "./process.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` while holding the lock file `path`, waiting up to `timeoutMs` (default 300 s) for it.
 * @throws {Error} when another live process holds the lock for longer than `timeoutMs`
 */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  timeoutMs = 300_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const mine = `${path}.${Deno.pid}`;
  await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
  await Deno.writeTextFile(mine, `${Deno.pid}\n`);
  try {
    for (;;) {
      try {
        await Deno.link(mine, path); // atomic: fails when the lock exists, never half-written
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
      const holder = readPid(path);
      if (holder !== undefined && !isAlive(holder)) {
        if (readPid(path) === holder) await Deno.remove(path).catch(() => {}); // stale
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for lock ${path} held by pid ${holder}`);
      }
      await sleep(200);
    }
  } finally {
    await Deno.remove(mine).catch(() => {});
  }
  try {
    return await fn();
  } finally {
    if (readPid(path) === Deno.pid) await Deno.remove(path).catch(() => {});
  }
}
