/**
 * @module
 * A {@link ViewStore} whose row writes run in a Web Worker (cassandra_worker.ts) with its own
 * Cassandra client: the consumer loop only hands rows over (a structured clone), while encoding,
 * batching and the driver's bookkeeping use a second core. Reads (`lateCounts`) go through the
 * store given for them on the calling thread. Write calls made in the same tick travel together.
 */
import type { CassandraClientConfig } from "../../shared/cassandra.ts";
import type { LateHour } from "../operators/late_counter.ts";
import type { CassandraViewStoreOptions } from "./cassandra_store.ts";
import { SameTickBatcher } from "./same_tick.ts";
import type { RowWrite, ViewStore } from "./view_store.ts";

/** A row on the wire: table name, delete?, values, write timestamp. */
export type WireRow = [string, boolean, unknown[], number];

/** Messages to the worker. */
export type WorkerRequest =
  | { type: "init"; cassandra: CassandraClientConfig; options: CassandraViewStoreOptions }
  | { type: "write"; id: number; rows: WireRow[] }
  | { type: "close"; id: number };

/** Messages from the worker. */
export type WorkerReply =
  | { type: "written"; id: number; error?: string }
  | { type: "closed"; id: number };

/** Options of {@link WorkerViewStore}. */
export interface WorkerViewStoreOptions extends CassandraViewStoreOptions {
  /** Where `lateCounts` reads (a store on this thread). */
  reads: Pick<ViewStore, "lateCounts">;
}

/** Writes realtime rows through a worker thread. */
export class WorkerViewStore implements ViewStore {
  #cassandra: CassandraClientConfig;
  #options: CassandraViewStoreOptions;
  #reads: Pick<ViewStore, "lateCounts">;
  #worker: Worker | undefined;
  #nextId = 1;
  #pending = new Map<number, PromiseWithResolvers<void>>();
  /** Rows of the write calls made in the current tick. */
  #batcher = new SameTickBatcher<WireRow>((rows) =>
    this.#send({ type: "write", id: this.#nextId++, rows })
  );

  /**
   * @param cassandra where the worker's client connects (keyspace of the realtime tables)
   * @param options TTL, concurrency and batch bounds of the worker's store, and where reads go
   */
  constructor(cassandra: CassandraClientConfig, options: WorkerViewStoreOptions) {
    if (!(Number.isInteger(options.ttlSeconds) && options.ttlSeconds > 0)) {
      throw new RangeError(
        `Cannot create view store: 'ttlSeconds' must be a positive integer, got ${options.ttlSeconds}`,
      );
    }
    const { reads, ...storeOptions } = options;
    this.#cassandra = {
      cassandraHosts: cassandra.cassandraHosts,
      cassandraPort: cassandra.cassandraPort,
      cassandraKeyspace: cassandra.cassandraKeyspace,
      cassandraLocalDc: cassandra.cassandraLocalDc,
    };
    this.#options = storeOptions;
    this.#reads = reads;
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(new URL("./cassandra_worker.ts", import.meta.url).href, {
      type: "module",
    });
    w.onmessage = (e: MessageEvent<WorkerReply>) => {
      const p = this.#pending.get(e.data.id);
      if (!p) return;
      this.#pending.delete(e.data.id);
      const error = e.data.type === "written" ? e.data.error : undefined;
      if (error === undefined) p.resolve();
      else p.reject(new Error(`Cassandra write failed: ${error}`));
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      // The worker is gone: fail what it held; the next write starts a new one.
      const error = new Error(`Cassandra write worker failed: ${e.message}`);
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
      if (this.#worker === w) this.#worker = undefined;
      w.terminate();
    };
    const init: WorkerRequest = {
      type: "init",
      cassandra: this.#cassandra,
      options: this.#options,
    };
    w.postMessage(init);
    this.#worker = w;
    return w;
  }

  #send(m: WorkerRequest & { id: number }): Promise<void> {
    const p = Promise.withResolvers<void>();
    this.#pending.set(m.id, p);
    this.#start().postMessage(m);
    return p.promise;
  }

  write(rows: readonly RowWrite[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const b = this.#batcher.batch();
    for (const r of rows) b.items.push([r.table.name, r.op === "delete", r.values, r.version]);
    return b.done;
  }

  lateCounts(view: string, topic: string, kpart: number): Promise<LateHour[]> {
    return this.#reads.lateCounts(view, topic, kpart);
  }

  /** Closes the worker's client and ends the worker (the reads store is the caller's). */
  async close(): Promise<void> {
    const w = this.#worker;
    if (!w) return;
    const closed = this.#send({ type: "close", id: this.#nextId++ });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise((r) => timer = setTimeout(r, 5_000));
    await Promise.race([closed, limit]).catch(() => {});
    clearTimeout(timer);
    w.terminate();
    this.#worker = undefined;
  }
}
