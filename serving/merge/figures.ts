/**
 * @module
 * The algebra of each view's figures: an empty value and an in-place sum. Counts and sums add,
 * sketches merge, min/max/lastSeen take the extreme — so summing over partitions, minutes, hours
 * or layers gives the same result in any order.
 */
import { DistinctSketch, QuantileSketch } from "../../shared/sketch/mod.ts";
import type {
  AppEventFigures,
  AssessmentFigures,
  CourseFigures,
  SeriesView,
  UserActivityFigures,
  VideoFigures,
  ViewFigures,
} from "./types.ts";

/** Zero and in-place sum of one view's figures. */
export interface FigureOps<F> {
  /** A fresh empty value (never shared). */
  zero(): F;
  /** Adds `x` into `acc` (mutating `acc`, never `x`) and returns `acc`. */
  addInto(acc: F, x: F): F;
}

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

const appEvents: FigureOps<AppEventFigures> = {
  zero: () => ({ count: 0 }),
  addInto(acc, x) {
    acc.count += x.count;
    return acc;
  },
};

const courseEngagement: FigureOps<CourseFigures> = {
  zero: () => ({
    enrollments: 0,
    unenrollments: 0,
    completions: 0,
    activeUsers: DistinctSketch.empty(),
  }),
  addInto(acc, x) {
    acc.enrollments += x.enrollments;
    acc.unenrollments += x.unenrollments;
    acc.completions += x.completions;
    acc.activeUsers.merge(x.activeUsers);
    return acc;
  },
};

const videoViews: FigureOps<VideoFigures> = {
  zero: () => ({ plays: 0, completes: 0, watchSeconds: 0, uniqueViewers: DistinctSketch.empty() }),
  addInto(acc, x) {
    acc.plays += x.plays;
    acc.completes += x.completes;
    acc.watchSeconds += x.watchSeconds;
    acc.uniqueViewers.merge(x.uniqueViewers);
    return acc;
  },
};

const assessmentScores: FigureOps<AssessmentFigures> = {
  zero: () => ({
    graded: 0,
    sumPercent: 0,
    minPercent: null,
    maxPercent: null,
    percents: QuantileSketch.empty(),
  }),
  addInto(acc, x) {
    acc.graded += x.graded;
    acc.sumPercent += x.sumPercent;
    acc.minPercent = minOf(acc.minPercent, x.minPercent);
    acc.maxPercent = maxOf(acc.maxPercent, x.maxPercent);
    acc.percents.merge(x.percents);
    return acc;
  },
};

const userActivity: FigureOps<UserActivityFigures> = {
  zero: () => ({
    events: 0,
    logins: 0,
    videoEvents: 0,
    assessmentEvents: 0,
    appEvents: 0,
    lastSeen: null,
  }),
  addInto(acc, x) {
    acc.events += x.events;
    acc.logins += x.logins;
    acc.videoEvents += x.videoEvents;
    acc.assessmentEvents += x.assessmentEvents;
    acc.appEvents += x.appEvents;
    acc.lastSeen = maxOf(acc.lastSeen, x.lastSeen);
    return acc;
  },
};

/** The figure algebra of every merged view. */
export const FIGURES: { [V in SeriesView]: FigureOps<ViewFigures[V]> } = {
  appEvents,
  courseEngagement,
  videoViews,
  assessmentScores,
  userActivity,
};

/** Sums many values of one view into a fresh value. */
export function sumFigures<V extends SeriesView>(
  view: V,
  values: Iterable<ViewFigures[V]>,
): ViewFigures[V] {
  const ops = FIGURES[view] as FigureOps<ViewFigures[V]>;
  const acc = ops.zero();
  for (const v of values) ops.addInto(acc, v);
  return acc;
}
