/**
 * @module
 * The GraphQL schema of CONTRACTS.md §4, verbatim in names, types, arguments and defaults.
 */

/** SDL of the serving API. */
export const typeDefs = /* GraphQL */ `
"""An instant in RFC 3339 form with an offset, e.g. 2026-11-20T05:00:00Z; answers are in UTC."""
scalar DateTime
"""A calendar date YYYY-MM-DD (UTC)."""
scalar Date

enum Granularity { MINUTE HOUR DAY }
"""Which layer answered: MIXED is a bucket summed from both."""
enum Source { BATCH REALTIME MIXED }

"""A half-open interval [start, end)."""
type Interval { start: DateTime!, end: DateTime! }

type Provenance {
  """Batch views are complete for all event time before this instant."""
  batchThrough: DateTime
  """The speed layer has processed event time up to here."""
  realtimeWatermark: DateTime
  """Now minus the newest event time reflected in the answer."""
  freshnessMs: Int
  """False when part of [from, to) is covered by neither layer."""
  complete: Boolean!
  """The parts covered by neither layer."""
  gaps: [Interval!]!
}

type EventCountPoint { start: DateTime!, end: DateTime!, source: Source!, count: Int! }
type EventCounts { total: Int!, points: [EventCountPoint!]!, provenance: Provenance! }

type CourseEngagementPoint { start: DateTime!, end: DateTime!, source: Source!,
  enrollments: Int!, unenrollments: Int!, completions: Int!, activeUsers: Int! }
type CourseEngagement { courseId: ID!, total: CourseEngagementPoint!,
  points: [CourseEngagementPoint!]!, provenance: Provenance! }

type VideoViewPoint { start: DateTime!, end: DateTime!, source: Source!,
  plays: Int!, completes: Int!, watchSeconds: Float!, uniqueViewers: Int! }
type VideoViews { videoId: ID!, total: VideoViewPoint!, points: [VideoViewPoint!]!, provenance: Provenance! }

type AssessmentScorePoint { start: DateTime!, end: DateTime!, source: Source!,
  graded: Int!, avgPercent: Float, minPercent: Float, maxPercent: Float, p50Percent: Float, p95Percent: Float }
type AssessmentScores { assessmentId: ID!, total: AssessmentScorePoint!,
  points: [AssessmentScorePoint!]!, provenance: Provenance! }

type UserActivityPoint { start: DateTime!, end: DateTime!, source: Source!,
  events: Int!, logins: Int!, videoEvents: Int!, assessmentEvents: Int!, appEvents: Int! }
type UserActivity { userId: ID!, lastSeen: DateTime, total: UserActivityPoint!,
  points: [UserActivityPoint!]!, provenance: Provenance! }

type Session { sessionId: ID!, userId: ID!, start: DateTime!, end: DateTime!, durationSec: Float!,
  clicks: Int!, uniquePages: Int!, path: [String!]! }

type KeyCount { key: String!, count: Int! }
type DailySummary { date: Date!, totalEvents: Int!, activeUsers: Int!, sessions: Int!,
  avgSessionDurationSec: Float, p95SessionDurationSec: Float, eventsByType: [KeyCount!]!,
  logins: Int!, enrollments: Int!, completions: Int! }

enum Segment { VIP ACTIVE REGULAR INACTIVE }
enum SessionFrequency { VERY_HIGH HIGH MEDIUM LOW }
enum ContentInterest { DIVERSE SELECTED LIMITED }
enum DevicePreference { MULTI_DEVICE SINGLE_DEVICE }
type UserSegment { userId: ID!, date: Date!, segment: Segment!, engagementScore: Float!,
  sessionFrequency: SessionFrequency!, contentInterest: ContentInterest!, devicePreference: DevicePreference! }

"""
Addition to CONTRACTS.md §4 (README.md "GraphQL additions"): a user's events in windows of
windowMinutes sliding every minute, summed from the realtime minute rows when read.
"""
type ActivityWindow { start: DateTime!, end: DateTime!,
  events: Int!, logins: Int!, videoEvents: Int!, assessmentEvents: Int!, appEvents: Int! }
type RecentActivity { userId: ID!, windowMinutes: Int!, windows: [ActivityWindow!]!,
  provenance: Provenance! }

type TopicLag { topic: String!, partition: Int!, lag: Int! }
type ServingStatus { batchThrough: DateTime, realtimeWatermark: DateTime, lag: [TopicLag!]! }

type Query {
  eventCounts(from: DateTime!, to: DateTime!, granularity: Granularity = HOUR,
    eventType: String, appType: String, userId: ID): EventCounts!
  courseEngagement(courseId: ID!, from: DateTime!, to: DateTime!, granularity: Granularity = HOUR): CourseEngagement!
  videoViews(videoId: ID!, from: DateTime!, to: DateTime!, granularity: Granularity = HOUR): VideoViews!
  assessmentScores(assessmentId: ID!, from: DateTime!, to: DateTime!, granularity: Granularity = HOUR): AssessmentScores!
  userActivity(userId: ID!, from: DateTime!, to: DateTime!, granularity: Granularity = HOUR): UserActivity!
  """
  The windows of windowMinutes (1..60) ending at each of the lastMinutes (1..1440) minute
  boundaries up to the end of the minute holding \`at\` (default now), oldest first: by default
  "the last 15 minutes" in 5-minute windows sliding every minute. Realtime views only (MINUTE grain).
  """
  recentActivity(userId: ID!, lastMinutes: Int = 15, windowMinutes: Int = 5, at: DateTime): RecentActivity!
  """Sessions whose start is in [from, to); provenance is in the response's extensions.provenance."""
  sessions(userId: ID!, from: DateTime!, to: DateTime!): [Session!]!
  dailySummary(date: Date!): DailySummary
  userSegment(userId: ID!, date: Date): UserSegment
  servingStatus: ServingStatus!
}
`;
