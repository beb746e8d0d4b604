/**
 * Figures of DESIGN.md computed from plain lists of events: each function takes the events that
 * belong to one answer and returns that answer. Nothing here knows about layers or time buckets.
 */
import type { RefEvent } from "./_reference_sets.ts";

/** Value at 0-based rank floor(q·(n−1)) of the ascending values; null when empty. */
export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))];
}

export interface CourseFigures {
  enrollments: number;
  unenrollments: number;
  completions: number;
  progressEvents: number;
  activeUsers: number;
  /** The distinct users behind `activeUsers`, sorted. */
  activeUserIds: string[];
}

/** Course figures of events already filtered to the course (COURSE, VIDEO, ASSESSMENT topics). */
export function courseFigures(events: readonly RefEvent[]): CourseFigures {
  const users = new Set<string>();
  const f = { enrollments: 0, unenrollments: 0, completions: 0, progressEvents: 0 };
  for (const e of events) {
    users.add(e.userId);
    if (e.topic !== "COURSE") continue;
    if (e.action === "enrolled") f.enrollments++;
    else if (e.action === "unenrolled") f.unenrollments++;
    else if (e.action === "completed") f.completions++;
    else if (e.action === "progress") f.progressEvents++;
  }
  return { ...f, activeUsers: users.size, activeUserIds: [...users].sort() };
}

export interface VideoFigures {
  plays: number;
  pauses: number;
  completes: number;
  watchSeconds: number;
  uniqueViewers: number;
  viewerIds: string[];
}

/** Video figures of VIDEO events already filtered to the video. */
export function videoFigures(events: readonly RefEvent[]): VideoFigures {
  const users = new Set<string>();
  let plays = 0, pauses = 0, completes = 0, watchSeconds = 0;
  for (const e of events) {
    users.add(e.userId);
    if (e.action === "play") plays++;
    else if (e.action === "pause") pauses++;
    else if (e.action === "complete") completes++;
    else if (e.action === "heartbeat") watchSeconds += Number(e.data!.watched_sec);
  }
  return {
    plays,
    pauses,
    completes,
    watchSeconds,
    uniqueViewers: users.size,
    viewerIds: [...users].sort(),
  };
}

export interface AssessmentFigures {
  started: number;
  submitted: number;
  graded: number;
  avgPercent: number | null;
  minPercent: number | null;
  maxPercent: number | null;
  p50Percent: number | null;
  p95Percent: number | null;
  /** Every graded percent (100·score/max_score), in event order. */
  percents: number[];
}

/** Assessment figures of ASSESSMENT events already filtered to the assessment. */
export function assessmentFigures(events: readonly RefEvent[]): AssessmentFigures {
  let started = 0, submitted = 0;
  const percents: number[] = [];
  for (const e of events) {
    if (e.action === "started") started++;
    else if (e.action === "submitted") submitted++;
    else if (e.action === "graded") {
      percents.push(100 * Number(e.data!.score) / Number(e.data!.max_score));
    }
  }
  const n = percents.length;
  return {
    started,
    submitted,
    graded: n,
    avgPercent: n ? percents.reduce((a, b) => a + b, 0) / n : null,
    minPercent: n ? percents.reduce((a, b) => Math.min(a, b)) : null,
    maxPercent: n ? percents.reduce((a, b) => Math.max(a, b)) : null,
    p50Percent: percentile(percents, 0.5),
    p95Percent: percentile(percents, 0.95),
    percents,
  };
}

export interface ActivityFigures {
  events: number;
  logins: number;
  videoEvents: number;
  assessmentEvents: number;
  appEvents: number;
  courseEvents: number;
  notificationEvents: number;
  profileEvents: number;
  clickstreamEvents: number;
  authEvents: number;
  /** Max event time, null when no events. */
  lastSeen: number | null;
}

/** User activity of one user's events (CDC events are ignored). */
export function activityFigures(events: readonly RefEvent[]): ActivityFigures {
  const f: ActivityFigures = {
    events: 0,
    logins: 0,
    videoEvents: 0,
    assessmentEvents: 0,
    appEvents: 0,
    courseEvents: 0,
    notificationEvents: 0,
    profileEvents: 0,
    clickstreamEvents: 0,
    authEvents: 0,
    lastSeen: null,
  };
  for (const e of events) {
    if (e.topic === "CDC") continue;
    f.events++;
    if (f.lastSeen === null || e.eventTime > f.lastSeen) f.lastSeen = e.eventTime;
    if (e.topic === "AUTH") {
      f.authEvents++;
      if (e.action === "login") f.logins++;
    } else if (e.topic === "VIDEO") f.videoEvents++;
    else if (e.topic === "ASSESSMENT") f.assessmentEvents++;
    else if (e.topic === "APP_EVENTS") f.appEvents++;
    else if (e.topic === "COURSE") f.courseEvents++;
    else if (e.topic === "NOTIFICATION") f.notificationEvents++;
    else if (e.topic === "PROFILE") f.profileEvents++;
    else if (e.topic === "CLICKSTREAM") f.clickstreamEvents++;
  }
  return f;
}

export interface FunnelFigures {
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  failed: number;
}

/** Notification funnel of NOTIFICATION events already filtered to the channel. */
export function funnelFigures(events: readonly RefEvent[]): FunnelFigures {
  const f = { sent: 0, delivered: 0, opened: 0, clicked: 0, failed: 0 };
  for (const e of events) {
    if (e.action && e.action in f) f[e.action as keyof FunnelFigures]++;
  }
  return f;
}

/** A clickstream session of DESIGN.md. */
export interface RefSession {
  sessionId: string;
  userId: string;
  /** First click (epoch ms). */
  start: number;
  /** Last click (epoch ms). */
  end: number;
  durationSec: number;
  clicks: number;
  uniquePages: number;
  /** The first 50 `page_url`s in event-time order (ties by partition offset). */
  path: string[];
}

/** A new session starts when the gap between consecutive clicks is more than this (30 min). */
export const SESSION_GAP_MS = 30 * 60_000;

/**
 * Sessions of CLICKSTREAM events: per (user_id, session_id), clicks ordered by event time (ties by
 * partition, offset), split where consecutive clicks are more than 30 minutes apart.
 * @returns sessions ordered by (start, userId, sessionId)
 */
export function sessionsOf(clicks: readonly RefEvent[]): RefSession[] {
  const groups = new Map<string, RefEvent[]>();
  for (const e of clicks) {
    if (e.topic !== "CLICKSTREAM") continue;
    const k = `${e.userId}\u0000${e.sessionId}`;
    let g = groups.get(k);
    if (!g) groups.set(k, g = []);
    g.push(e);
  }
  const out: RefSession[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.eventTime - b.eventTime || a.partition - b.partition || a.offset - b.offset);
    let run: RefEvent[] = [];
    const close = () => {
      if (run.length === 0) return;
      const start = run[0].eventTime;
      const end = run[run.length - 1].eventTime;
      out.push({
        sessionId: run[0].sessionId!,
        userId: run[0].userId,
        start,
        end,
        durationSec: (end - start) / 1000,
        clicks: run.length,
        uniquePages: new Set(run.map((e) => e.pageUrl)).size,
        path: run.slice(0, 50).map((e) => e.pageUrl!),
      });
      run = [];
    };
    for (const e of g) {
      if (run.length > 0 && e.eventTime - run[run.length - 1].eventTime > SESSION_GAP_MS) close();
      run.push(e);
    }
    close();
  }
  return out.sort((a, b) =>
    a.start - b.start || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0) ||
    (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0)
  );
}
