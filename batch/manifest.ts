/**
 * @module
 * The batch manifest `OUTPUTS_DIR/_manifest.json` (docs/DESIGN.md "Batch outputs"): which hours are
 * published, and per day and view the current Parquet file with its row count and sha256. It is
 * replaced atomically (temporary file, fsync, rename), so a reader sees the old or the new version.
 */
import { writeFileAtomic } from "../shared/archive.ts";
import { HOUR_MS, hourKey, parseHourKey, toIso } from "../shared/time.ts";

/** Manifest format version. */
export const MANIFEST_VERSION = 3;
/** File name of the manifest inside `OUTPUTS_DIR`. */
export const MANIFEST_FILE = "_manifest.json";

/** The current file of one view for one day. */
export interface ManifestViewEntry {
  /** Path relative to `OUTPUTS_DIR`: `<view>/date=<d>/<runId>.parquet`. */
  file: string;
  rows: number;
  /** Hex sha256 of the file's bytes. */
  sha256: string;
  /** The run that wrote the file. */
  runId: string;
  /** UTC hours (0..23) of the day the file covers. */
  hours: number[];
  /** The file this one replaced; kept until the next publish of the view so readers can finish. */
  previousFile?: string;
}

/** One published day. */
export interface ManifestDay {
  /** The last run that published this day. */
  runId: string;
  publishedAt: string;
  /** Hours of the day covered by every merged view (see {@link MERGED_VIEWS}). */
  hours: number[];
  /** True when all 24 hours are published. */
  complete: boolean;
  views: Record<string, ManifestViewEntry>;
}

/** One published hour. */
export interface ManifestHour {
  runId: string;
  publishedAt: string;
}

/** `OUTPUTS_DIR/_manifest.json`. */
export interface Manifest {
  version: number;
  updatedAt: string;
  /** Hour key `YYYY-MM-DDTHH` → the run that published it. */
  hours: Record<string, ManifestHour>;
  /** `YYYY-MM-DD` → the day's files. */
  days: Record<string, ManifestDay>;
}

/** The views the serving layer merges with realtime views; an hour is published when all have it. */
export const MERGED_VIEWS = [
  "app_event_counts",
  "user_activity",
  "course_engagement",
  "video_views",
  "assessment_scores",
  "notification_funnel",
  "sessions",
] as const;

/** A manifest that cannot be read. */
export class ManifestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ManifestError";
  }
}

/** A manifest with nothing published. */
export function emptyManifest(): Manifest {
  return { version: MANIFEST_VERSION, updatedAt: new Date(0).toISOString(), hours: {}, days: {} };
}

/**
 * Reads the manifest; an empty one when the file does not exist yet.
 * @throws {ManifestError} when the file exists but is not a manifest of this version
 */
export async function readManifest(outputsDir: string): Promise<Manifest> {
  const path = `${outputsDir}/${MANIFEST_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return emptyManifest();
    throw new ManifestError(`Cannot read batch manifest ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`Batch manifest ${path} is not JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const o = m as Partial<Manifest>;
  if (
    typeof m !== "object" || m === null || o.version !== MANIFEST_VERSION ||
    typeof o.hours !== "object" || o.hours === null || typeof o.days !== "object" ||
    o.days === null
  ) {
    throw new ManifestError(
      `Batch manifest ${path} is not a version ${MANIFEST_VERSION} manifest`,
    );
  }
  return m as Manifest;
}

/** Writes the manifest atomically (temporary file, fsync, rename). */
export async function writeManifest(outputsDir: string, manifest: Manifest): Promise<void> {
  await Deno.mkdir(outputsDir, { recursive: true });
  const text = JSON.stringify(manifest, null, 2) + "\n";
  await writeFileAtomic(`${outputsDir}/${MANIFEST_FILE}`, new TextEncoder().encode(text));
}

/** Hours (0..23) that every merged view of a day entry covers. */
export function coveredHours(views: Record<string, ManifestViewEntry>): number[] {
  let hours: Set<number> | undefined;
  for (const v of MERGED_VIEWS) {
    const e = views[v];
    if (!e) return [];
    const s = new Set(e.hours);
    hours = hours ? new Set([...hours].filter((h) => s.has(h))) : s;
  }
  return [...(hours ?? [])].sort((a, b) => a - b);
}

/**
 * Returns a new manifest with a day's view entries replaced (views not given are kept), the day's
 * published hours recomputed and the global hour map updated.
 */
export function withDay(
  manifest: Manifest,
  date: string,
  update: { runId: string; publishedAt: string; views: Record<string, ManifestViewEntry> },
): Manifest {
  const old = manifest.days[date];
  const views: Record<string, ManifestViewEntry> = { ...(old?.views ?? {}) };
  for (const [name, entry] of Object.entries(update.views)) {
    const prev = views[name];
    views[name] = prev && prev.file !== entry.file ? { ...entry, previousFile: prev.file } : {
      ...entry,
      ...(prev?.previousFile ? { previousFile: prev.previousFile } : {}),
    };
  }
  const hours = coveredHours(views);
  const hourMap: Record<string, ManifestHour> = {};
  for (const [k, v] of Object.entries(manifest.hours)) if (!k.startsWith(date)) hourMap[k] = v;
  const dayStart = Date.parse(`${date}T00:00:00Z`);
  for (const h of hours) {
    hourMap[hourKey(dayStart + h * HOUR_MS)] = {
      runId: update.runId,
      publishedAt: update.publishedAt,
    };
  }
  const sortedHours = Object.fromEntries(
    Object.entries(hourMap).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  );
  const days = { ...manifest.days };
  days[date] = {
    runId: update.runId,
    publishedAt: update.publishedAt,
    hours,
    complete: hours.length === 24,
    views: Object.fromEntries(Object.entries(views).sort(([a], [b]) => a < b ? -1 : 1)),
  };
  return {
    version: MANIFEST_VERSION,
    updatedAt: update.publishedAt,
    hours: sortedHours,
    days: Object.fromEntries(Object.entries(days).sort(([a], [b]) => a < b ? -1 : 1)),
  };
}

/**
 * `batchThrough`: the end (epoch ms) of the latest hour H such that every hour from the earliest
 * published hour up to H is published; null when nothing is published.
 */
export function batchThrough(manifest: Manifest): number | null {
  const starts = Object.keys(manifest.hours).map(parseHourKey).sort((a, b) => a - b);
  if (starts.length === 0) return null;
  let end = starts[0] + HOUR_MS;
  for (let i = 1; i < starts.length && starts[i] === end; i++) end += HOUR_MS;
  return end;
}

/** {@link batchThrough} as RFC 3339 text, or null. */
export function batchThroughIso(manifest: Manifest): string | null {
  const b = batchThrough(manifest);
  return b === null ? null : toIso(b);
}
