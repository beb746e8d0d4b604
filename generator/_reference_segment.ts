/**
 * User segmentation of generator/README.md "Engagement score and segments": the exact formula the
 * batch `user_segmentation` job implements.
 */
import { DAY_MS, parseIsoDate } from "../shared/time.ts";
import type { RefSession } from "./_reference_figures.ts";
import type { RefEvent } from "./_reference_sets.ts";

export type Segment = "VIP" | "ACTIVE" | "REGULAR" | "INACTIVE";
export type SessionFrequency = "VERY_HIGH" | "HIGH" | "MEDIUM" | "LOW";
export type ContentInterest = "DIVERSE" | "SELECTED" | "LIMITED";
export type DevicePreference = "MULTI_DEVICE" | "SINGLE_DEVICE";

/** Options of {@link segmentOf}. */
export interface SegmentOptions {
  /** Days in the window, ending with `date` (inclusive); default 30. */
  lookbackDays?: number;
}

/** Weights in tenths of a point, so the score is exact in any summation order. */
export const ENGAGEMENT_WEIGHTS_TENTHS = {
  login: 20,
  appEvent: 5,
  click: 2,
  videoPlay: 10,
  videoComplete: 50,
  assessmentGraded: 50,
  courseCompleted: 100,
} as const;

export interface UserSegment {
  userId: string;
  date: string;
  segment: Segment;
  engagementScore: number;
  sessionFrequency: SessionFrequency;
  contentInterest: ContentInterest;
  devicePreference: DevicePreference;
  /** The inputs, for debugging a disagreement. */
  counts: {
    login: number;
    appEvent: number;
    click: number;
    videoPlay: number;
    videoComplete: number;
    assessmentGraded: number;
    courseCompleted: number;
    sessions: number;
    sessionsPerDay: number;
    distinctCourses: number;
    distinctDevices: number;
  };
}

/**
 * Segments one user.
 * @param events the user's batch events (any order)
 * @param sessions the user's batch clickstream sessions
 * @returns null when the user has no non-CDC event in the window
 * @throws {RangeError} on a malformed date or lookback
 */
export function segmentOf(
  userId: string,
  date: string,
  events: readonly RefEvent[],
  sessions: readonly RefSession[],
  options: SegmentOptions = {},
): UserSegment | null {
  const days = options.lookbackDays ?? 30;
  if (!Number.isSafeInteger(days) || days < 1) {
    throw new RangeError(`Cannot segment: 'lookbackDays' must be a positive integer, got ${days}`);
  }
  const to = parseIsoDate(date) + DAY_MS;
  const from = to - days * DAY_MS;
  const inWindow = events.filter((e) =>
    e.topic !== "CDC" && e.eventTime >= from && e.eventTime < to
  );
  if (inWindow.length === 0) return null;
  const c = {
    login: 0,
    appEvent: 0,
    click: 0,
    videoPlay: 0,
    videoComplete: 0,
    assessmentGraded: 0,
    courseCompleted: 0,
  };
  const courses = new Set<string>();
  const devices = new Set<string>();
  for (const e of inWindow) {
    if (e.topic === "AUTH") {
      if (e.action === "login") c.login++;
      if (e.device !== undefined) devices.add(e.device);
    } else if (e.topic === "APP_EVENTS") c.appEvent++;
    else if (e.topic === "CLICKSTREAM") c.click++;
    else if (e.topic === "VIDEO") {
      if (e.action === "play") c.videoPlay++;
      if (e.action === "complete") c.videoComplete++;
    } else if (e.topic === "ASSESSMENT" && e.action === "graded") c.assessmentGraded++;
    else if (e.topic === "COURSE" && e.action === "completed") c.courseCompleted++;
    if (
      (e.topic === "COURSE" || e.topic === "VIDEO" || e.topic === "ASSESSMENT") &&
      e.courseId !== undefined
    ) courses.add(e.courseId);
  }
  let tenths = 0;
  for (const k of Object.keys(c) as Array<keyof typeof c>) {
    tenths += c[k] * ENGAGEMENT_WEIGHTS_TENTHS[k];
  }
  const score = tenths / 10;
  const sessionCount = sessions.filter((s) => s.start >= from && s.start < to).length;
  const perDay = sessionCount / days;
  return {
    userId,
    date,
    segment: score > 100 ? "VIP" : score >= 50 ? "ACTIVE" : score >= 20 ? "REGULAR" : "INACTIVE",
    engagementScore: score,
    sessionFrequency: perDay >= 5
      ? "VERY_HIGH"
      : perDay >= 2
      ? "HIGH"
      : perDay >= 0.5
      ? "MEDIUM"
      : "LOW",
    contentInterest: courses.size >= 5 ? "DIVERSE" : courses.size >= 2 ? "SELECTED" : "LIMITED",
    devicePreference: devices.size >= 2 ? "MULTI_DEVICE" : "SINGLE_DEVICE",
    counts: {
      ...c,
      sessions: sessionCount,
      sessionsPerDay: perDay,
      distinctCourses: courses.size,
      distinctDevices: devices.size,
    },
  };
}
