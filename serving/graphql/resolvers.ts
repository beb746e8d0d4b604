/**
 * @module
 * Resolvers of the §4 schema: validate arguments, ask the merge engine, shape its answer.
 */
import type { GraphQLResolveInfo } from "graphql";
import { appEvent } from "../../shared/events.ts";
import type { DistinctSketch } from "../../shared/sketch/mod.ts";
import type { MergeEngine } from "../merge/engine.ts";
import { ArgumentError } from "../merge/errors.ts";
import type {
  AssessmentFigures,
  CourseFigures,
  Granularity,
  Provenance,
  SeriesAnswer,
  SeriesPoint,
  SeriesView,
  UserActivityFigures,
  VideoFigures,
  ViewFigures,
  ViewKeys,
} from "../merge/types.ts";
import { floorMinute, MINUTE_MS } from "../../shared/time.ts";
import { FIGURES } from "../merge/figures.ts";
import { slidingWindows } from "../merge/sliding.ts";
import type { ServingContext } from "./context.ts";
import { badUserInput, DateScalar, DateTimeScalar } from "./scalars.ts";

const EVENT_TYPES: readonly string[] = appEvent.shape.event_type.options;
const APP_TYPES: readonly string[] = appEvent.shape.app_type.options;
/** GraphQL `Int` is 32-bit; a freshness older than ~24.8 days saturates here. */
const INT_MAX = 2 ** 31 - 1;

interface RangeArgs {
  from: number;
  to: number;
  granularity: Granularity;
}

function id(name: string, value: string): string {
  if (value.length === 0 || value.length > 128) {
    throw badUserInput(`Argument "${name}": must be 1..128 characters, got ${value.length}`);
  }
  return value;
}

function intIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badUserInput(`Argument "${name}": must be an integer in ${min}..${max}, got ${value}`);
  }
  return value;
}

function oneOf(name: string, value: string | null | undefined, allowed: readonly string[]) {
  if (value === null || value === undefined) return undefined;
  if (!allowed.includes(value)) {
    throw badUserInput(
      `Argument "${name}": unknown value ${JSON.stringify(value)}; expected one of ${
        allowed.join(", ")
      }`,
    );
  }
  return value;
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ArgumentError) {
      const err = badUserInput(e.message);
      err.extensions.argument = e.argument;
      throw err;
    }
    throw e;
  }
}

function provenance(p: Provenance) {
  return {
    batchThrough: p.batchThrough,
    realtimeWatermark: p.realtimeWatermark,
    freshnessMs: p.freshnessMs === null ? null : Math.min(INT_MAX, p.freshnessMs),
    complete: p.complete,
    gaps: p.gaps,
  };
}

function shape<F, P>(answer: SeriesAnswer<F>, point: (p: SeriesPoint<F>) => P) {
  return {
    total: point(answer.total),
    points: answer.points.map(point),
    provenance: provenance(answer.provenance),
  };
}

function base(p: SeriesPoint<unknown>) {
  return { start: p.start, end: p.end, source: p.source };
}

/**
 * Distinct-count estimates by sketch. Answer figures are never changed once answered (and the
 * merge engine shares them between answers), so a dense sketch's estimate is computed once.
 */
const estimates = new WeakMap<DistinctSketch, number>();

function distinct(sketch: DistinctSketch): number {
  let n = estimates.get(sketch);
  if (n === undefined) estimates.set(sketch, n = Math.round(sketch.estimate()));
  return n;
}

function coursePoint(p: SeriesPoint<CourseFigures>) {
  const f = p.figures;
  return {
    ...base(p),
    enrollments: f.enrollments,
    unenrollments: f.unenrollments,
    completions: f.completions,
    activeUsers: distinct(f.activeUsers),
  };
}

function videoPoint(p: SeriesPoint<VideoFigures>) {
  const f = p.figures;
  return {
    ...base(p),
    plays: f.plays,
    completes: f.completes,
    watchSeconds: f.watchSeconds,
    uniqueViewers: distinct(f.uniqueViewers),
  };
}

function assessmentPoint(p: SeriesPoint<AssessmentFigures>) {
  const f = p.figures;
  const none = f.graded === 0;
  return {
    ...base(p),
    graded: f.graded,
    avgPercent: none ? null : f.sumPercent / f.graded,
    minPercent: none ? null : f.minPercent,
    maxPercent: none ? null : f.maxPercent,
    p50Percent: none ? null : f.percents.quantile(0.5),
    p95Percent: none ? null : f.percents.quantile(0.95),
  };
}

function activityPoint(p: SeriesPoint<UserActivityFigures>) {
  const f = p.figures;
  return {
    ...base(p),
    events: f.events,
    logins: f.logins,
    videoEvents: f.videoEvents,
    assessmentEvents: f.assessmentEvents,
    appEvents: f.appEvents,
  };
}

async function series<V extends SeriesView>(
  ctx: ServingContext,
  view: V,
  key: ViewKeys[V],
  args: RangeArgs,
): Promise<SeriesAnswer<ViewFigures[V]>> {
  return await guarded(async () =>
    ctx.engine.series(view, key, {
      from: args.from,
      to: args.to,
      granularity: args.granularity,
    }, await ctx.answer())
  );
}

type Args<T> = T & RangeArgs;

/** The resolver map of the schema. */
export function createResolvers() {
  return {
    DateTime: DateTimeScalar,
    Date: DateScalar,
    Query: {
      async eventCounts(
        _: unknown,
        args: Args<{ eventType?: string | null; appType?: string | null; userId?: string | null }>,
        ctx: ServingContext,
      ) {
        const key: ViewKeys["appEvents"] = {};
        const eventType = oneOf("eventType", args.eventType, EVENT_TYPES);
        const appType = oneOf("appType", args.appType, APP_TYPES);
        if (eventType !== undefined) key.eventType = eventType;
        if (appType !== undefined) key.appType = appType;
        if (args.userId !== null && args.userId !== undefined) {
          key.userId = id("userId", args.userId);
        }
        const a = await series(ctx, "appEvents", key, args);
        const out = shape(a, (p) => ({ ...base(p), count: p.figures.count }));
        return { ...out, total: out.total.count };
      },
      async courseEngagement(_: unknown, args: Args<{ courseId: string }>, ctx: ServingContext) {
        const courseId = id("courseId", args.courseId);
        return {
          courseId,
          ...shape(await series(ctx, "courseEngagement", { courseId }, args), coursePoint),
        };
      },
      async videoViews(_: unknown, args: Args<{ videoId: string }>, ctx: ServingContext) {
        const videoId = id("videoId", args.videoId);
        return {
          videoId,
          ...shape(await series(ctx, "videoViews", { videoId }, args), videoPoint),
        };
      },
      async assessmentScores(
        _: unknown,
        args: Args<{ assessmentId: string }>,
        ctx: ServingContext,
      ) {
        const assessmentId = id("assessmentId", args.assessmentId);
        const a = await series(ctx, "assessmentScores", { assessmentId }, args);
        return { assessmentId, ...shape(a, assessmentPoint) };
      },
      async userActivity(_: unknown, args: Args<{ userId: string }>, ctx: ServingContext) {
        const userId = id("userId", args.userId);
        const a = await series(ctx, "userActivity", { userId }, args);
        return { userId, lastSeen: a.total.figures.lastSeen, ...shape(a, activityPoint) };
      },
      async recentActivity(
        _: unknown,
        args: { userId: string; lastMinutes: number; windowMinutes: number; at?: number | null },
        ctx: ServingContext,
      ) {
        const userId = id("userId", args.userId);
        const last = intIn("lastMinutes", args.lastMinutes, 1, 1440);
        const size = intIn("windowMinutes", args.windowMinutes, 1, 60);
        const lastEnd = floorMinute(args.at ?? (await ctx.answer()).now) + MINUTE_MS;
        const firstEnd = lastEnd - (last - 1) * MINUTE_MS;
        const a = await series(ctx, "userActivity", { userId }, {
          from: firstEnd - size * MINUTE_MS,
          to: lastEnd,
          granularity: "MINUTE",
        });
        const windows = slidingWindows(
          a.points,
          firstEnd,
          lastEnd,
          size * MINUTE_MS,
          FIGURES.userActivity,
        );
        return {
          userId,
          windowMinutes: size,
          windows: windows.map((w) => activityPoint({ ...w, source: "REALTIME" })),
          provenance: provenance(a.provenance),
        };
      },
      async sessions(
        _: unknown,
        args: { userId: string; from: number; to: number },
        ctx: ServingContext,
        info: GraphQLResolveInfo,
      ) {
        const userId = id("userId", args.userId);
        const a = await guarded(async () =>
          ctx.engine.sessions(userId, { from: args.from, to: args.to }, await ctx.answer())
        );
        ctx.extraProvenance.set(info.path.key as string, a.provenance);
        return a.sessions;
      },
      async dailySummary(_: unknown, args: { date: number }, ctx: ServingContext) {
        return await ctx.engine.dailySummary(args.date, await ctx.answer());
      },
      async userSegment(
        _: unknown,
        args: { userId: string; date?: number | null },
        ctx: ServingContext,
      ) {
        const userId = id("userId", args.userId);
        return await ctx.engine.userSegment(userId, args.date ?? null, await ctx.answer());
      },
      async servingStatus(_: unknown, __: unknown, ctx: ServingContext) {
        const a = await ctx.answer();
        return {
          batchThrough: a.snapshot.batchThrough,
          realtimeWatermark: a.status.watermark,
          lag: a.status.lag,
        };
      },
    },
  };
}

export type { MergeEngine };
