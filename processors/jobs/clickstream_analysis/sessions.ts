/**
 * @module
 * Clickstream session aggregates (docs/DESIGN.md "Sessions"): clicks, distinct pages and the path
 * (first 50 pages in event-time order, ties by offset), mergeable when an out-of-order click
 * bridges two sessions. Pure functions over plain data.
 */

/** Longest path kept per session. */
export const PATH_LIMIT = 50;

/** One click on the path. */
export interface PathStep {
  t: number;
  offset: number;
  page: string;
}

/** A session's aggregate. */
export interface ClickSession {
  userId: string;
  sessionId: string;
  clicks: number;
  pages: Set<string>;
  /** The earliest clicks by (event time, offset), at most {@link PATH_LIMIT}, in order. */
  path: PathStep[];
}

/** A session aggregate with no clicks. */
export function emptySession(userId: string, sessionId: string): ClickSession {
  return { userId, sessionId, clicks: 0, pages: new Set(), path: [] };
}

function before(a: PathStep, b: PathStep): boolean {
  return a.t < b.t || (a.t === b.t && a.offset < b.offset);
}

/** Adds one click. */
export function addClick(s: ClickSession, step: PathStep): void {
  s.clicks++;
  s.pages.add(step.page);
  const p = s.path;
  if (p.length >= PATH_LIMIT && !before(step, p[p.length - 1])) return;
  let lo = 0, hi = p.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(p[mid], step)) lo = mid + 1;
    else hi = mid;
  }
  p.splice(lo, 0, step);
  if (p.length > PATH_LIMIT) p.pop();
}

/** Folds `from` into `into` (two sessions bridged by a click). */
export function mergeSessions(into: ClickSession, from: ClickSession): void {
  into.clicks += from.clicks;
  for (const page of from.pages) into.pages.add(page);
  const a = into.path, b = from.path, out: PathStep[] = [];
  let i = 0, j = 0;
  while (out.length < PATH_LIMIT && (i < a.length || j < b.length)) {
    out.push(j >= b.length || (i < a.length && before(a[i], b[j])) ? a[i++] : b[j++]);
  }
  into.path = out;
}
