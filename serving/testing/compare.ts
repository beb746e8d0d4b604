/**
 * @module
 * Comparison of GraphQL answers with the reference calculator's (generator/reference.ts), with the
 * accuracy CONTRACTS.md promises: counts and sums exact (sums up to float rounding of a different
 * summation order), distinct counts within 2 %, percentiles within 1 %.
 */
import assert from "node:assert/strict";

/** A GraphQL JSON value. */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** Relative difference of two numbers (0 when both are 0). */
export function relDiff(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

/** Kinds of figure and their tolerance. */
export type FigureKind = "exact" | "sum" | "distinct" | "percentile";

const TOLERANCE: Record<FigureKind, number> = {
  exact: 0,
  sum: 1e-9,
  distinct: 0.02,
  percentile: 0.01,
};

/** Asserts one figure. `where` names it in the failure message. */
export function assertFigure(
  kind: FigureKind,
  actual: number | null,
  expected: number | null,
  where: string,
): void {
  if (expected === null || actual === null) {
    assert.equal(actual, expected, `${where}: got ${actual}, expected ${expected}`);
    return;
  }
  if (kind === "exact") {
    assert.equal(actual, expected, `${where}: got ${actual}, expected ${expected}`);
    return;
  }
  const d = relDiff(actual, expected);
  // Distinct counts are integers: allow the rounding of a tiny estimate too.
  const slack = kind === "distinct" ? 1 : 0;
  assert.ok(
    d <= TOLERANCE[kind] || Math.abs(actual - expected) <= slack,
    `${where}: got ${actual}, expected ${expected} (relative difference ${d.toExponential(2)} > ${
      TOLERANCE[kind]
    })`,
  );
}

/** Asserts a point's figures: `fields` maps the GraphQL field to its kind and reference field. */
export function assertPoint(
  actual: Json,
  expected: Json,
  fields: Record<string, [FigureKind, string?]>,
  where: string,
): void {
  assert.equal(
    Date.parse(actual.start),
    expected.start,
    `${where}: start ${actual.start} vs ${new Date(expected.start).toISOString()}`,
  );
  assert.equal(
    Date.parse(actual.end),
    expected.end,
    `${where}: end ${actual.end} vs ${new Date(expected.end).toISOString()}`,
  );
  assert.equal(actual.source, expected.source, `${where}: source`);
  for (const [field, [kind, refField]] of Object.entries(fields)) {
    assertFigure(kind, actual[field], expected[refField ?? field], `${where}.${field}`);
  }
}

/** GraphQL selections and comparison fields of each series query. */
export const SERIES_FIELDS = {
  eventCounts: { count: ["exact"] },
  courseEngagement: {
    enrollments: ["exact"],
    unenrollments: ["exact"],
    completions: ["exact"],
    activeUsers: ["distinct"],
  },
  videoViews: {
    plays: ["exact"],
    completes: ["exact"],
    watchSeconds: ["sum"],
    uniqueViewers: ["distinct"],
  },
  assessmentScores: {
    graded: ["exact"],
    avgPercent: ["sum"],
    minPercent: ["exact"],
    maxPercent: ["exact"],
    p50Percent: ["percentile"],
    p95Percent: ["percentile"],
  },
  userActivity: {
    events: ["exact"],
    logins: ["exact"],
    videoEvents: ["exact"],
    assessmentEvents: ["exact"],
    appEvents: ["exact"],
  },
} as const satisfies Record<string, Record<string, [FigureKind, string?]>>;

export type SeriesQuery = keyof typeof SERIES_FIELDS;

/** The GraphQL selection of a series query's point. */
export function pointSelection(q: SeriesQuery): string {
  return `start end source ${Object.keys(SERIES_FIELDS[q]).join(" ")}`;
}

/**
 * Asserts a GraphQL series answer against the reference's: every point and the total.
 * @param actual the GraphQL `data.<field>` object
 * @param expected the reference's answer
 */
export function assertSeries(q: SeriesQuery, actual: Json, expected: Json, where: string): void {
  const fields = SERIES_FIELDS[q] as Record<string, [FigureKind, string?]>;
  assert.equal(
    actual.points.length,
    expected.points.length,
    `${where}: ${actual.points.length} points, expected ${expected.points.length}`,
  );
  actual.points.forEach((p: Json, i: number) =>
    assertPoint(p, expected.points[i], fields, `${where} point ${i} (${p.start})`)
  );
  if (q === "eventCounts") {
    assert.equal(
      actual.total,
      expected.total,
      `${where}: total ${actual.total} vs ${expected.total}`,
    );
  } else {
    assertPoint(actual.total, expected.total, fields, `${where} total`);
  }
  if (q === "userActivity") {
    const last = actual.lastSeen === null ? null : Date.parse(actual.lastSeen);
    assert.equal(last, expected.lastSeen, `${where}: lastSeen`);
  }
}
