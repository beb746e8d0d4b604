/**
 * @module
 * The user dimension `users_dim ((user_id))`, written by two jobs and read by enrichment and the
 * serving layer. Every write carries an explicit Cassandra timestamp in microseconds of source
 * time, and Cassandra keeps the newest value per cell, so writes may arrive in any order, from
 * any partition, any number of times:
 *
 * - `cdc_transformation` writes the row state of each change of the `users` table: `fields`
 *   (the whole map, replaced), `deleted`, `op`, `source_position`, `source_ts`, `cdc_ts`, at
 *   `source.ts_ms` µs (plus a tie step, position.ts);
 * - `data_enrichment` writes single `fields[k]` cells of profile_topic changes at the event time
 *   µs (a later CDC row state replaces them, an earlier one does not), the latest device and
 *   country of auth events at their event time, and risk flags and engagement score of the
 *   user's newest event at its event time.
 *
 * A truncate of `users` is one row of `cdc_truncations`; a user whose last CDC state is older
 * than it reads as deleted.
 */
import { type Client, concurrent } from "cassandra-driver";
import type { DimWrite, TruncationWrite } from "./transformer.ts";

/** The dimension row of a user as read (truncation applied). */
export interface UserDim {
  userId: string;
  /** Current profile fields (text values). */
  fields: Record<string, string>;
  /** Deleted by a CDC delete or a later truncate. */
  deleted: boolean;
  /** Operation code of the last CDC change applied; null without any. */
  op: string | null;
  sourcePosition: string | null;
  /** `source.ts_ms` of the last CDC change applied. */
  sourceTs: number | null;
  /** Write timestamp (µs) of the last CDC row state. */
  cdcTs: number | null;
  lastDevice: string | null;
  lastCountry: string | null;
  /** Event time of the auth event that set device/country. */
  lastAuthAt: number | null;
  riskFlags: string[];
  /** Event time of the event whose risk flags and score are stored. */
  riskAt: number | null;
  engagementScore: number | null;
}

/** A profile_topic change of one field (value null: the field was cleared). */
export interface ProfileWrite {
  userId: string;
  field: string;
  value: string | null;
  /** µs */
  writeTs: number;
}

/** Latest device and country of a user's auth event. */
export interface AuthWrite {
  userId: string;
  device: string | null;
  country: string | null;
  authAt: number;
  /** µs */
  writeTs: number;
}

/** Risk flags and engagement score as of a user's newest event. */
export interface RiskWrite {
  userId: string;
  riskFlags: string[];
  engagementScore: number;
  at: number;
  /** µs */
  writeTs: number;
}

/** Reads and writes of the user dimension. */
export interface UserDimStore {
  writeCdc(rows: readonly DimWrite[]): Promise<void>;
  writeTruncations(rows: readonly TruncationWrite[]): Promise<void>;
  writeProfile(rows: readonly ProfileWrite[]): Promise<void>;
  writeAuth(rows: readonly AuthWrite[]): Promise<void>;
  writeRisk(rows: readonly RiskWrite[]): Promise<void>;
  /** The rows of these users (missing users are absent from the map). */
  get(userIds: readonly string[]): Promise<Map<string, UserDim>>;
}

/** The table whose truncations make users read as deleted. */
export const USERS_TABLE = "users";

function emptyDim(userId: string): UserDim {
  return {
    userId,
    fields: {},
    deleted: false,
    op: null,
    sourcePosition: null,
    sourceTs: null,
    cdcTs: null,
    lastDevice: null,
    lastCountry: null,
    lastAuthAt: null,
    riskFlags: [],
    riskAt: null,
    engagementScore: null,
  };
}

/** Applies a truncation time (µs) to a row read from storage. */
export function applyTruncation(dim: UserDim, truncatedAt: number | null): UserDim {
  if (truncatedAt === null || (dim.cdcTs ?? -Infinity) >= truncatedAt) return dim;
  return { ...dim, deleted: true };
}

// ---------------------------------------------------------------- Cassandra

const num = (v: unknown): number | null =>
  v === null || v === undefined ? null : typeof v === "number" ? v : Number(String(v));

/** Options of {@link cassandraUserDimStore}. */
export interface CassandraUserDimOptions {
  /** Concurrent statements per batch of writes; default 32. */
  concurrency?: number;
}

/**
 * The Cassandra implementation over `users_dim` and `cdc_truncations` of the client's keyspace.
 * @param client a client connected to the platform keyspace
 */
export function cassandraUserDimStore(
  client: Client,
  options: CassandraUserDimOptions = {},
): UserDimStore {
  const level = options.concurrency ?? 32;
  const run = async (queries: { query: string; params: unknown[] }[]) => {
    if (queries.length === 0) return;
    await concurrent.executeConcurrent(client, queries, {
      concurrencyLevel: level,
      raiseOnFirstError: true,
    });
  };
  const UPSERT = "UPDATE users_dim USING TIMESTAMP ? SET fields = ?, deleted = false, op = ?, " +
    "source_position = ?, source_ts = ?, cdc_ts = ? WHERE user_id = ?";
  const DELETE = "UPDATE users_dim USING TIMESTAMP ? SET deleted = true, op = ?, " +
    "source_position = ?, source_ts = ?, cdc_ts = ? WHERE user_id = ?";
  const TRUNCATE = "UPDATE cdc_truncations USING TIMESTAMP ? SET truncated_at = ?, " +
    "source_position = ?, source_ts = ? WHERE table_name = ?";
  const SET_FIELD = "UPDATE users_dim USING TIMESTAMP ? SET fields[?] = ? WHERE user_id = ?";
  const DEL_FIELD = "DELETE fields[?] FROM users_dim USING TIMESTAMP ? WHERE user_id = ?";
  const SELECT = "SELECT user_id, fields, deleted, op, source_position, source_ts, cdc_ts, " +
    "last_device, last_country, last_auth_at, risk_flags, risk_at, engagement_score " +
    "FROM users_dim WHERE user_id = ?";
  return {
    writeCdc: (rows) =>
      run(rows.map((r) =>
        r.action === "upsert"
          ? {
            query: UPSERT,
            params: [
              r.writeTs,
              r.fields ?? {},
              r.op,
              r.position,
              new Date(r.sourceTsMs),
              r.writeTs,
              r.entityId,
            ],
          }
          : {
            query: DELETE,
            params: [r.writeTs, r.op, r.position, new Date(r.sourceTsMs), r.writeTs, r.entityId],
          }
      )),
    writeTruncations: (rows) =>
      run(rows.map((r) => ({
        query: TRUNCATE,
        params: [r.writeTs, r.writeTs, r.position, new Date(r.sourceTsMs), r.table],
      }))),
    writeProfile: (rows) =>
      run(
        rows.map((r) =>
          r.value === null
            ? { query: DEL_FIELD, params: [r.field, r.writeTs, r.userId] }
            : { query: SET_FIELD, params: [r.writeTs, r.field, r.value, r.userId] }
        ),
      ),
    writeAuth: (rows) =>
      run(rows.map((r) => {
        const sets = ["last_auth_at = ?"];
        const params: unknown[] = [r.writeTs, new Date(r.authAt)];
        if (r.device !== null) sets.push("last_device = ?"), params.push(r.device);
        if (r.country !== null) sets.push("last_country = ?"), params.push(r.country);
        params.push(r.userId);
        return {
          query: `UPDATE users_dim USING TIMESTAMP ? SET ${sets.join(", ")} WHERE user_id = ?`,
          params,
        };
      })),
    writeRisk: (rows) =>
      run(rows.map((r) => ({
        query: "UPDATE users_dim USING TIMESTAMP ? SET risk_flags = ?, risk_at = ?, " +
          "engagement_score = ? WHERE user_id = ?",
        params: [r.writeTs, r.riskFlags, new Date(r.at), r.engagementScore, r.userId],
      }))),
    async get(userIds) {
      const out = new Map<string, UserDim>();
      if (userIds.length === 0) return out;
      const [rows, trunc] = await Promise.all([
        Promise.all(
          userIds.map((id) => client.execute(SELECT, [id], { prepare: true })),
        ),
        client.execute(
          "SELECT truncated_at FROM cdc_truncations WHERE table_name = ?",
          [USERS_TABLE],
          { prepare: true },
        ),
      ]);
      const truncatedAt = num(trunc.first()?.get("truncated_at"));
      for (const rs of rows) {
        const r = rs.first();
        if (!r) continue;
        const dim: UserDim = {
          userId: r.get("user_id"),
          fields: { ...(r.get("fields") ?? {}) },
          deleted: r.get("deleted") === true,
          op: r.get("op") ?? null,
          sourcePosition: r.get("source_position") ?? null,
          sourceTs: r.get("source_ts") ? (r.get("source_ts") as Date).getTime() : null,
          cdcTs: num(r.get("cdc_ts")),
          lastDevice: r.get("last_device") ?? null,
          lastCountry: r.get("last_country") ?? null,
          lastAuthAt: r.get("last_auth_at") ? (r.get("last_auth_at") as Date).getTime() : null,
          riskFlags: [...(r.get("risk_flags") ?? [])].sort(),
          riskAt: r.get("risk_at") ? (r.get("risk_at") as Date).getTime() : null,
          engagementScore: num(r.get("engagement_score")),
        };
        out.set(dim.userId, applyTruncation(dim, truncatedAt));
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------- memory

interface Cell<T> {
  v: T | null;
  ts: number;
}

/** Cassandra's rule: the higher timestamp wins; on a tie a deletion wins, then the larger value. */
function wins<T>(next: Cell<T>, prev: Cell<T> | undefined): boolean {
  if (!prev) return true;
  if (next.ts !== prev.ts) return next.ts > prev.ts;
  if (next.v === null || prev.v === null) return next.v === null;
  return JSON.stringify(next.v) > JSON.stringify(prev.v);
}

interface MemRow {
  /** Collection tombstone: cells written at or before it are deleted. */
  fieldsDeletedAt: number;
  fields: Map<string, Cell<string>>;
  cols: Map<string, Cell<unknown>>;
}

/**
 * An in-memory store with Cassandra's per-cell last-write-wins semantics (including a map
 * replacement deleting older entries), for unit tests of both jobs and the serving layer.
 */
export class MemoryUserDimStore implements UserDimStore {
  readonly rows = new Map<string, MemRow>();
  readonly truncations = new Map<string, Cell<number>>();
  /** Statements executed, for tests that count writes. */
  writes = 0;

  #row(id: string): MemRow {
    let r = this.rows.get(id);
    if (!r) {
      this.rows.set(id, r = { fieldsDeletedAt: -Infinity, fields: new Map(), cols: new Map() });
    }
    return r;
  }

  #set(row: MemRow, col: string, v: unknown, ts: number): void {
    const next = { v, ts };
    if (wins(next, row.cols.get(col))) row.cols.set(col, next);
  }

  #setField(row: MemRow, k: string, v: string | null, ts: number): void {
    if (ts <= row.fieldsDeletedAt) return;
    const next = { v, ts };
    if (wins(next, row.fields.get(k))) row.fields.set(k, next);
  }

  writeCdc(rows: readonly DimWrite[]): Promise<void> {
    for (const w of rows) {
      this.writes++;
      const row = this.#row(w.entityId);
      if (w.action === "upsert") {
        const del = w.writeTs - 1;
        if (del > row.fieldsDeletedAt) {
          row.fieldsDeletedAt = del;
          for (const [k, c] of row.fields) if (c.ts <= del) row.fields.delete(k);
        }
        for (const [k, v] of Object.entries(w.fields ?? {})) this.#setField(row, k, v, w.writeTs);
      }
      this.#set(row, "deleted", w.action === "delete", w.writeTs);
      this.#set(row, "op", w.op, w.writeTs);
      this.#set(row, "source_position", w.position, w.writeTs);
      this.#set(row, "source_ts", w.sourceTsMs, w.writeTs);
      this.#set(row, "cdc_ts", w.writeTs, w.writeTs);
    }
    return Promise.resolve();
  }

  writeTruncations(rows: readonly TruncationWrite[]): Promise<void> {
    for (const t of rows) {
      this.writes++;
      const next = { v: t.writeTs, ts: t.writeTs };
      if (wins(next, this.truncations.get(t.table))) this.truncations.set(t.table, next);
    }
    return Promise.resolve();
  }

  writeProfile(rows: readonly ProfileWrite[]): Promise<void> {
    for (const p of rows) {
      this.writes++;
      this.#setField(this.#row(p.userId), p.field, p.value, p.writeTs);
    }
    return Promise.resolve();
  }

  writeAuth(rows: readonly AuthWrite[]): Promise<void> {
    for (const a of rows) {
      this.writes++;
      const row = this.#row(a.userId);
      this.#set(row, "last_auth_at", a.authAt, a.writeTs);
      if (a.device !== null) this.#set(row, "last_device", a.device, a.writeTs);
      if (a.country !== null) this.#set(row, "last_country", a.country, a.writeTs);
    }
    return Promise.resolve();
  }

  writeRisk(rows: readonly RiskWrite[]): Promise<void> {
    for (const r of rows) {
      this.writes++;
      const row = this.#row(r.userId);
      this.#set(row, "risk_flags", [...r.riskFlags].sort(), r.writeTs);
      this.#set(row, "risk_at", r.at, r.writeTs);
      this.#set(row, "engagement_score", r.engagementScore, r.writeTs);
    }
    return Promise.resolve();
  }

  get(userIds: readonly string[]): Promise<Map<string, UserDim>> {
    const out = new Map<string, UserDim>();
    const truncatedAt = this.truncations.get(USERS_TABLE)?.v ?? null;
    for (const id of userIds) {
      const row = this.rows.get(id);
      if (!row) continue;
      const col = <T>(name: string): T | null => (row.cols.get(name)?.v ?? null) as T | null;
      const fields: Record<string, string> = {};
      for (const [k, c] of [...row.fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (c.v !== null) fields[k] = c.v;
      }
      const dim: UserDim = {
        ...emptyDim(id),
        fields,
        deleted: col<boolean>("deleted") === true,
        op: col<string>("op"),
        sourcePosition: col<string>("source_position"),
        sourceTs: col<number>("source_ts"),
        cdcTs: col<number>("cdc_ts"),
        lastDevice: col<string>("last_device"),
        lastCountry: col<string>("last_country"),
        lastAuthAt: col<number>("last_auth_at"),
        riskFlags: col<string[]>("risk_flags") ?? [],
        riskAt: col<number>("risk_at"),
        engagementScore: col<number>("engagement_score"),
      };
      out.set(id, applyTruncation(dim, truncatedAt));
    }
    return Promise.resolve(out);
  }
}

export { emptyDim };
