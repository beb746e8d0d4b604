/**
 * @module
 * Reads of the user dimension and the CDC summaries for the GraphQL additions (docs/ENRICHMENT.md
 * "API"): `users_dim` + `cdc_truncations` (one partition each) and `cdc_operations_rt` (one
 * partition per table, a clustering range of minutes). The tables are written by the
 * `cdc_transformation` and `data_enrichment` jobs; their layout is in infra/schema.cql.
 */
import type { Client } from "cassandra-driver";

/** A user's stored dimension row (truncation already applied). */
export interface UserRecord {
  userId: string;
  fields: Record<string, string>;
  deleted: boolean;
  /** Has a CDC row state. */
  hasCdc: boolean;
  sourcePosition: string | null;
  /** `source.ts_ms` of the last CDC change. */
  sourceTs: number | null;
  device: string | null;
  country: string | null;
  lastAuthAt: number | null;
  riskFlags: string[];
  riskAt: number | null;
  engagementScore: number | null;
}

/** One partition's counts of one table and minute. */
export interface CdcMinuteRow {
  minute: number;
  kpart: number;
  inserts: number;
  updates: number;
  deletes: number;
  snapshots: number;
  truncates: number;
}

/** What the resolvers read. */
export interface ExtStore {
  /** The user's row, or undefined when the user has none. */
  user(userId: string): Promise<UserRecord | undefined>;
  /** Rows of `table` with minute in `[fromMs, toMs)`. */
  cdcMinutes(table: string, fromMs: number, toMs: number): Promise<CdcMinuteRow[]>;
}

const n = (v: unknown): number =>
  v === null || v === undefined ? 0 : typeof v === "number" ? v : Number(String(v));
const time = (v: unknown): number | null => v instanceof Date ? v.getTime() : null;

/**
 * The Cassandra store.
 * @param client a client connected to the platform keyspace
 */
export function cassandraExtStore(client: Client): ExtStore {
  return {
    async user(userId) {
      const [rs, trunc] = await Promise.all([
        client.execute(
          "SELECT fields, deleted, source_position, source_ts, cdc_ts, last_device, " +
            "last_country, last_auth_at, risk_flags, risk_at, engagement_score " +
            "FROM users_dim WHERE user_id = ?",
          [userId],
          { prepare: true },
        ),
        client.execute(
          "SELECT truncated_at FROM cdc_truncations WHERE table_name = ?",
          ["users"],
          { prepare: true },
        ),
      ]);
      const r = rs.first();
      if (!r) return undefined;
      const cdcTs = r.get("cdc_ts") === null ? null : n(r.get("cdc_ts"));
      const tr = trunc.first()?.get("truncated_at");
      const truncated = tr !== undefined && tr !== null && (cdcTs ?? -Infinity) < n(tr);
      return {
        userId,
        fields: { ...(r.get("fields") ?? {}) },
        deleted: r.get("deleted") === true || truncated,
        hasCdc: cdcTs !== null,
        sourcePosition: r.get("source_position") ?? null,
        sourceTs: time(r.get("source_ts")),
        device: r.get("last_device") ?? null,
        country: r.get("last_country") ?? null,
        lastAuthAt: time(r.get("last_auth_at")),
        riskFlags: [...(r.get("risk_flags") ?? [])].sort(),
        riskAt: time(r.get("risk_at")),
        engagementScore: r.get("engagement_score") ?? null,
      };
    },
    async cdcMinutes(table, fromMs, toMs) {
      const rs = await client.execute(
        "SELECT minute, kpart, inserts, updates, deletes, snapshots, truncates " +
          "FROM cdc_operations_rt WHERE table_name = ? AND minute >= ? AND minute < ?",
        [table, new Date(fromMs), new Date(toMs)],
        { prepare: true, fetchSize: 10_000 },
      );
      const out: CdcMinuteRow[] = [];
      for await (const r of rs) {
        out.push({
          minute: (r.get("minute") as Date).getTime(),
          kpart: r.get("kpart"),
          inserts: n(r.get("inserts")),
          updates: n(r.get("updates")),
          deletes: n(r.get("deletes")),
          snapshots: n(r.get("snapshots")),
          truncates: n(r.get("truncates")),
        });
      }
      return out;
    },
  };
}

/** An in-memory store for tests. */
export class MemoryExtStore implements ExtStore {
  readonly users = new Map<string, UserRecord>();
  readonly minutes = new Map<string, CdcMinuteRow[]>();

  user(userId: string): Promise<UserRecord | undefined> {
    return Promise.resolve(this.users.get(userId));
  }

  cdcMinutes(table: string, fromMs: number, toMs: number): Promise<CdcMinuteRow[]> {
    return Promise.resolve(
      (this.minutes.get(table) ?? []).filter((r) => r.minute >= fromMs && r.minute < toMs),
    );
  }
}
