/**
 * @module
 * The Cassandra {@link ViewStore}: one prepared statement per table and operation, every upsert
 * `USING TTL <ttl> AND TIMESTAMP <version>`, every delete `USING TIMESTAMP <version>`. Rows that
 * share their partition key value go in small unlogged batches (one token per batch, so a batch is
 * applied on one replica set without coordinator fan-out); requests run concurrently with a bound
 * on requests in flight, and write calls of the same tick are planned together.
 */
import { Buffer } from "node:buffer";
import { type Client, types } from "cassandra-driver";
import type { LateHour } from "../operators/late_counter.ts";
import { columnsOf, keyLength, LATE_EVENTS, type TableSpec } from "./tables.ts";
import { SameTickBatcher } from "./same_tick.ts";
import type { RowWrite, ViewStore } from "./view_store.ts";

/** Options of {@link CassandraViewStore}. */
export interface CassandraViewStoreOptions {
  /** TTL of upserted rows in seconds (`REALTIME_TTL_SECONDS`). */
  ttlSeconds: number;
  /** Requests (statements or batches) in flight at most, over all concurrent writes; default 256. */
  concurrency?: number;
  /** Rows per unlogged batch at most; default 50. */
  maxBatchRows?: number;
  /** Approximate bytes per unlogged batch at most (below Cassandra's 5 KiB warning); default 4500. */
  maxBatchBytes?: number;
}

interface Statements {
  upsert: string;
  delete: string;
  /** Indexes of blob columns (converted to Buffer) in row order. */
  blobs: number[];
}

function quote(name: string): string {
  return `"${name}"`;
}

/** CQL of a table's upsert and delete. */
export function statementsFor(t: TableSpec): { upsert: string; delete: string } {
  const all = columnsOf(t);
  const key = all.slice(0, keyLength(t));
  return {
    upsert: `INSERT INTO ${t.name} (${all.map((c) => quote(c.name)).join(", ")}) VALUES (${
      all.map(() => "?").join(", ")
    }) USING TTL ? AND TIMESTAMP ?`,
    delete: `DELETE FROM ${t.name} USING TIMESTAMP ? WHERE ${
      key.map((c) => `${quote(c.name)} = ?`).join(" AND ")
    }`,
  };
}

function approxBytes(values: readonly unknown[]): number {
  let n = 16;
  for (const v of values) {
    if (typeof v === "string") n += v.length + 4;
    else if (v instanceof Uint8Array) n += v.length + 4;
    else if (Array.isArray(v)) { for (const x of v) n += String(x).length + 4; }
    else n += 8;
  }
  return n;
}

interface Query {
  query: string;
  params: unknown[];
}

/** Writes realtime rows to Cassandra. */
export class CassandraViewStore implements ViewStore {
  #client: Client;
  #ttl: number;
  #concurrency: number;
  #maxBatchRows: number;
  #maxBatchBytes: number;
  #statements = new Map<string, Statements>();
  /** Requests in flight over every concurrent `write` call, and those waiting for a slot. */
  #inFlight = 0;
  /** Waiting requests from index `#head` on (a queue without O(n) `shift`). */
  #waiting: (() => void)[] = [];
  #head = 0;
  /** Rows of the write calls made in the current tick. */
  #batcher = new SameTickBatcher<RowWrite>((rows) => this.#execute(rows));

  /**
   * @param client a client connected to the keyspace of the realtime tables
   * @param options TTL and concurrency
   */
  constructor(client: Client, options: CassandraViewStoreOptions) {
    if (!(Number.isInteger(options.ttlSeconds) && options.ttlSeconds > 0)) {
      throw new RangeError(
        `Cannot create view store: 'ttlSeconds' must be a positive integer, got ${options.ttlSeconds}`,
      );
    }
    this.#client = client;
    this.#ttl = options.ttlSeconds;
    this.#concurrency = options.concurrency ?? 256;
    this.#maxBatchRows = options.maxBatchRows ?? 50;
    this.#maxBatchBytes = options.maxBatchBytes ?? 4500;
    if (!(this.#concurrency >= 1)) {
      throw new RangeError(`Cannot create view store: 'concurrency' must be ≥ 1`);
    }
  }

  #stmts(t: TableSpec): Statements {
    let s = this.#statements.get(t.name);
    if (!s) {
      const blobs = columnsOf(t).flatMap((c, i) => c.type === "blob" ? [i] : []);
      s = { ...statementsFor(t), blobs };
      this.#statements.set(t.name, s);
    }
    return s;
  }

  #query(r: RowWrite): Query {
    const s = this.#stmts(r.table);
    if (r.op === "delete") return { query: s.delete, params: [r.version, ...r.values] };
    const params = new Array(r.values.length + 2);
    for (let i = 0; i < r.values.length; i++) {
      const v = r.values[i];
      params[i] = v === null || v === undefined ? types.unset : v;
    }
    for (const i of s.blobs) {
      const v = params[i];
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) {
        params[i] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
    }
    params[r.values.length] = this.#ttl;
    params[r.values.length + 1] = r.version;
    return { query: s.upsert, params };
  }

  /**
   * Groups rows into requests: single statements, or unlogged batches of rows that share their
   * partition key value. Rows of different tables with the same single-column partition key value
   * (e.g. one `user_id`) have the same token, so such a batch still goes to one replica set and is
   * applied there without coordinator fan-out.
   */
  #plan(rows: readonly RowWrite[]): RowWrite[][] {
    const byKey = new Map<string, RowWrite[]>();
    for (const r of rows) {
      const pk = r.table.partitionKey;
      const k = pk.length === 1
        ? `${pk[0].type}\u0000${String(r.values[0])}`
        : `${r.table.name}\u0000${JSON.stringify(r.values.slice(0, pk.length))}`;
      const g = byKey.get(k);
      if (g) g.push(r);
      else byKey.set(k, [r]);
    }
    const requests: RowWrite[][] = [];
    for (const group of byKey.values()) {
      let batch: RowWrite[] = [];
      let bytes = 0;
      for (const r of group) {
        const size = approxBytes(r.values);
        if (
          batch.length > 0 &&
          (batch.length >= this.#maxBatchRows || bytes + size > this.#maxBatchBytes)
        ) {
          requests.push(batch);
          batch = [];
          bytes = 0;
        }
        batch.push(r);
        bytes += size;
      }
      if (batch.length > 0) requests.push(batch);
    }
    return requests;
  }

  /**
   * Writes rows. Calls made in the same tick are coalesced into one plan, so rows of different
   * callers that share a partition key travel in the same batches; every caller of a coalesced
   * write resolves (or rejects) with it.
   */
  write(rows: readonly RowWrite[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const b = this.#batcher.batch();
    for (const r of rows) b.items.push(r);
    return b.done;
  }

  async #execute(rows: readonly RowWrite[]): Promise<void> {
    const requests = this.#plan(rows);
    const client = this.#client;
    let failure: unknown;
    await Promise.all(requests.map(async (req) => {
      await this.#slot();
      try {
        if (failure !== undefined) return;
        // Parameters are built once the request has a slot, so rows waiting in a long queue (several
        // flushes in flight) are not held twice.
        if (req.length === 1) {
          const q = this.#query(req[0]);
          await client.execute(q.query, q.params, { prepare: true });
        } else {
          await client.batch(req.map((r) => this.#query(r)), { prepare: true, logged: false });
        }
      } catch (e) {
        failure ??= e;
      } finally {
        this.#release();
      }
    }));
    if (failure !== undefined) {
      throw new Error(`Cassandra write failed: ${(failure as Error).message ?? failure}`, {
        cause: failure,
      });
    }
  }

  #slot(): Promise<void> {
    if (this.#inFlight < this.#concurrency) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise((r) => this.#waiting.push(r));
  }

  #release(): void {
    const w = this.#waiting;
    if (this.#head < w.length) {
      const next = w[this.#head++];
      if (this.#head === w.length) {
        w.length = 0;
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= w.length) {
        w.splice(0, this.#head);
        this.#head = 0;
      }
      next(); // the slot passes on
    } else this.#inFlight--;
  }

  async lateCounts(view: string, topic: string, kpart: number): Promise<LateHour[]> {
    const rs = await this.#client.execute(
      `SELECT "hour", "late", WRITETIME("late") AS version FROM ${LATE_EVENTS.name} ` +
        `WHERE "view" = ? AND "topic" = ? AND "kpart" = ? ALLOW FILTERING`,
      [view, topic, kpart],
      { prepare: true, fetchSize: 5000 },
    );
    const out: LateHour[] = [];
    for await (const row of rs) {
      out.push({
        hour: (row.get("hour") as Date).getTime(),
        late: Number(row.get("late")),
        version: Number(row.get("version")),
      });
    }
    return out;
  }

  close(): Promise<void> {
    return this.#client.shutdown();
  }
}
