/**
 * @module
 * What the orchestrator reads besides its own state: the batch manifest (what is published, and
 * `batchThrough`) and the master dataset's earliest archived hour (where a first start begins).
 */
import { MASTER_DIR } from "../shared/archive.ts";
import { HOUR_MS, parseIsoDate } from "../shared/time.ts";
import { batchThrough, readManifest } from "../batch/manifest.ts";
import type { Published } from "./scheduler.ts";

/** The manifest as the scheduler sees it. */
export interface PublishedInfo {
  published: Published;
  /** The manifest's `batchThrough` (epoch ms), null when nothing is published. */
  batchThrough: number | null;
}

/** Reads what is published. */
export type PublishedSource = () => Promise<PublishedInfo>;

/** Reads `OUTPUTS_DIR/_manifest.json` on every call (it is small and replaced atomically). */
export function manifestSource(outputsDir: string): PublishedSource {
  return async () => {
    const m = await readManifest(outputsDir);
    const days = new Map<string, Set<string>>();
    for (const [date, day] of Object.entries(m.days)) {
      days.set(date, new Set(Object.keys(day.views)));
    }
    return {
      published: { hours: new Set(Object.keys(m.hours)), days },
      batchThrough: batchThrough(m),
    };
  };
}

async function sortedDirs(path: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) {
      if (e.isDirectory && e.name.startsWith(prefix)) out.push(e.name.slice(prefix.length));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

async function hasParquet(dir: string): Promise<boolean> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".parquet") && !e.name.startsWith(".")) return true;
  }
  return false;
}

/**
 * The start of the earliest hour holding a Parquet file in `DATA_DIR/master` (any topic), or null
 * when the archive is empty. Reads directory names only, oldest first, so it stops early.
 */
export async function earliestArchivedHour(dataDir: string): Promise<number | null> {
  const root = `${dataDir}/${MASTER_DIR}`;
  let best: number | null = null;
  for (const topic of await sortedDirs(root, "topic=")) {
    search: for (const date of await sortedDirs(`${root}/topic=${topic}`, "date=")) {
      let day: number;
      try {
        day = parseIsoDate(date);
      } catch {
        continue;
      }
      if (best !== null && day > best) break;
      const hours = (await sortedDirs(`${root}/topic=${topic}/date=${date}`, "hour="))
        .filter((h) => /^\d{1,2}$/.test(h) && Number(h) < 24)
        .sort((a, b) => Number(a) - Number(b));
      for (const h of hours) {
        const start = day + Number(h) * HOUR_MS;
        if (best !== null && start >= best) break search;
        if (await hasParquet(`${root}/topic=${topic}/date=${date}/hour=${h}`)) {
          best = start;
          break search;
        }
      }
    }
  }
  return best;
}
