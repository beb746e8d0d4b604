/**
 * @module
 * Atomic publication of a day's batch views (docs/DESIGN.md "Batch outputs"):
 * 1. every view is written to `OUTPUTS_DIR/.staging/<date>-<runId>/` (by the runner);
 * 2. each file is renamed to `OUTPUTS_DIR/<view>/date=<date>/<runId>.parquet` (not yet referenced);
 * 3. under the manifest lock, `_manifest.json` is rewritten (temporary file + rename) to point at
 *    the new files: readers switch from the whole old version to the whole new one;
 * 4. files of the day that the manifest no longer references are removed, except each view's
 *    previous file, kept until the next publish so readers that read the old manifest can finish.
 *
 * A crash before step 3 leaves the old version in force; its leftovers are removed by the next run
 * of the day (step 4, and {@link cleanStaging}).
 */
import { acquireLock } from "./lock.ts";
import {
  type Manifest,
  type ManifestViewEntry,
  readManifest,
  withDay,
  writeManifest,
} from "./manifest.ts";

/** Folder of staged (not yet published) files inside `OUTPUTS_DIR`. */
export const STAGING_DIR = ".staging";
/** Folder of lock files inside `OUTPUTS_DIR`. */
export const LOCK_DIR = ".locks";

/** Points where a publication can be paused (fault-injection seam for crash tests). */
export type PublishStage = "staged" | "moved-one" | "moved-all" | "manifest-written";

/** A view file written to the staging folder. */
export interface StagedView {
  view: string;
  /** Path of the staged file. */
  path: string;
  rows: number;
  sha256: string;
  hours: number[];
}

/** Options of {@link publishDay}. */
export interface PublishOptions {
  /** Called at each {@link PublishStage}; default none. */
  pause?: (stage: PublishStage) => Promise<void>;
  /** Clock for `publishedAt`; default `Date.now`. */
  now?: () => number;
  /** How long to wait for the manifest lock; default 60000 ms. */
  manifestLockWaitMs?: number;
}

/** Hex sha256 of a file. */
export async function sha256File(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Relative path of a view file. */
export function viewFile(view: string, date: string, runId: string): string {
  return `${view}/date=${date}/${runId}.parquet`;
}

/**
 * Publishes staged view files of a day and returns the manifest now in force.
 */
export async function publishDay(
  outputsDir: string,
  date: string,
  runId: string,
  staged: readonly StagedView[],
  options: PublishOptions = {},
): Promise<Manifest> {
  const pause = options.pause ?? (() => Promise.resolve());
  const now = options.now ?? Date.now;
  await pause("staged");
  const entries: Record<string, ManifestViewEntry> = {};
  for (const [i, s] of staged.entries()) {
    const rel = viewFile(s.view, date, runId);
    await Deno.mkdir(`${outputsDir}/${s.view}/date=${date}`, { recursive: true });
    await Deno.rename(s.path, `${outputsDir}/${rel}`);
    entries[s.view] = { file: rel, rows: s.rows, sha256: s.sha256, runId, hours: s.hours };
    if (i === 0) await pause("moved-one");
  }
  await pause("moved-all");
  const lock = await acquireLock(`${outputsDir}/${LOCK_DIR}/_manifest.lock`, {
    purpose: `publish ${date} ${runId}`,
    waitMs: options.manifestLockWaitMs ?? 60_000,
    pollMs: 20,
  });
  let manifest: Manifest;
  try {
    const publishedAt = new Date(now()).toISOString();
    manifest = withDay(await readManifest(outputsDir), date, {
      runId,
      publishedAt,
      views: entries,
    });
    await writeManifest(outputsDir, manifest);
  } finally {
    await lock.release();
  }
  await pause("manifest-written");
  await collectGarbage(outputsDir, date, manifest);
  return manifest;
}

/**
 * Removes the day's view files that the manifest references neither as current nor as previous
 * file (older versions and leftovers of crashed runs).
 * @returns the paths removed
 */
export async function collectGarbage(
  outputsDir: string,
  date: string,
  manifest: Manifest,
): Promise<string[]> {
  const day = manifest.days[date];
  const keep = new Set<string>();
  for (const e of Object.values(day?.views ?? {})) {
    keep.add(e.file);
    if (e.previousFile) keep.add(e.previousFile);
  }
  const removed: string[] = [];
  let views: string[] = [];
  try {
    for await (const e of Deno.readDir(outputsDir)) {
      if (e.isDirectory && !e.name.startsWith(".") && !e.name.startsWith("_")) views.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return removed;
    throw e;
  }
  views = views.sort();
  for (const view of views) {
    const dir = `${outputsDir}/${view}/date=${date}`;
    try {
      for await (const f of Deno.readDir(dir)) {
        const rel = `${view}/date=${date}/${f.name}`;
        if (f.isFile && f.name.endsWith(".parquet") && !keep.has(rel)) {
          await Deno.remove(`${outputsDir}/${rel}`).catch(() => {});
          removed.push(rel);
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return removed;
}

/**
 * Removes staging folders of a day left by crashed runs. Call only while holding the day's lock.
 */
export async function cleanStaging(outputsDir: string, date: string): Promise<void> {
  const root = `${outputsDir}/${STAGING_DIR}`;
  try {
    for await (const e of Deno.readDir(root)) {
      if (e.isDirectory && e.name.startsWith(`${date}-`)) {
        await Deno.remove(`${root}/${e.name}`, { recursive: true }).catch(() => {});
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
