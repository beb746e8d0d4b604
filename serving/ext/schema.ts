/**
 * @module
 * SDL of the GraphQL additions of issue #6 (docs/ENRICHMENT.md "API"). It extends the §4 schema
 * (uses its `DateTime` scalar), so it is merged with serving/graphql/schema.ts `typeDefs`.
 */

/** The additions: `user(id)` and `cdcSummary(table, from, to)`. */
export const extTypeDefs = /* GraphQL */ `
"""One profile field of a user (values are text; non-text source values as JSON)."""
type ProfileField { key: String!, value: String! }

"""
A user as the enrichment job sees them: the current row of the users table (from CDC) with
profile_topic changes laid over it, the latest device and country of their auth events, and the
risk flags and engagement score of their newest event.
"""
type User {
  id: ID!
  """False when neither CDC nor profile_topic has told anything about the user."""
  known: Boolean!
  """Deleted by a CDC delete or a later truncate of the users table."""
  deleted: Boolean!
  """Profile fields, sorted by key."""
  profile: [ProfileField!]!
  """One profile field, or null."""
  field(key: String!): String
  """Source position of the last CDC change applied (e.g. lsn:24023128)."""
  sourcePosition: String
  """When that change was made in the source database (source.ts_ms)."""
  profileChangedAt: DateTime
  device: String
  country: String
  """Event time of the auth event that set device and country."""
  lastAuthAt: DateTime
  """failed_login_burst, impossible_travel, high_event_volume."""
  riskFlags: [String!]!
  """Event time of the event the risk flags and score belong to."""
  riskAt: DateTime
  engagementScore: Float
}

enum CdcOperation { INSERT UPDATE DELETE SNAPSHOT TRUNCATE }

type CdcOperationCount { operation: CdcOperation!, count: Int! }

"""One minute of a table's CDC operations (summed over partitions)."""
type CdcSummaryPoint { start: DateTime!, end: DateTime!, inserts: Int!, updates: Int!,
  deletes: Int!, snapshots: Int!, truncates: Int! }

"""
CDC operations of one source table in [from, to), by kind, from the realtime view (minute grain,
kept REALTIME_TTL_SECONDS). from is rounded down and to up to whole minutes.
"""
type CdcSummary {
  table: String!
  from: DateTime!
  to: DateTime!
  inserts: Int!
  updates: Int!
  deletes: Int!
  snapshots: Int!
  truncates: Int!
  total: Int!
  operations: [CdcOperationCount!]!
  """Minutes with at least one operation, in time order."""
  points: [CdcSummaryPoint!]!
  """False when part of [from, to) is older than the realtime retention or in the future."""
  complete: Boolean!
  """The parts of [from, to) no data can exist for."""
  gaps: [Interval!]!
}

extend type Query {
  """A user's current profile, latest device and country, and risk flags; null if never seen."""
  user(id: ID!): User
  """CDC operations of a source table (e.g. users) per kind over [from, to)."""
  cdcSummary(table: String!, from: DateTime!, to: DateTime!): CdcSummary!
}
`;
