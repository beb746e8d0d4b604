/**
 * @module
 * Web Worker entry of {@link WorkerViewStore}: a Cassandra client and a {@link CassandraViewStore}
 * in their own thread, so that the request encoding of cassandra-driver (most of the client's CPU)
 * runs beside the consumer loop instead of on it. Messages: `init` (connection and TTL), `write`
 * (rows in the wire form of worker_store.ts, answered with `{ id, error? }`), `close`.
 */
/// <reference lib="deno.worker" />
import { createCassandraClient } from "../../shared/cassandra.ts";
import { CassandraViewStore } from "./cassandra_store.ts";
import { VIEW_TABLES } from "./tables.ts";
import type { RowWrite } from "./view_store.ts";
import type { WorkerReply, WorkerRequest } from "./worker_store.ts";

const tables = new Map(VIEW_TABLES.map((t) => [t.name, t]));
let store: CassandraViewStore | undefined;

function reply(m: WorkerReply): void {
  self.postMessage(m);
}

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const m = e.data;
  if (m.type === "init") {
    const client = createCassandraClient(m.cassandra);
    store = new CassandraViewStore(client, m.options);
    return;
  }
  if (m.type === "close") {
    await store?.close().catch(() => {});
    reply({ type: "closed", id: m.id });
    return;
  }
  try {
    if (!store) throw new Error("view store worker not initialised");
    const rows: RowWrite[] = new Array(m.rows.length);
    for (let i = 0; i < m.rows.length; i++) {
      const [name, del, values, version] = m.rows[i];
      const table = tables.get(name);
      if (!table) throw new RangeError(`Cannot write: unknown realtime table ${name}`);
      rows[i] = { table, op: del ? "delete" : "upsert", values, version };
    }
    await store.write(rows);
    reply({ type: "written", id: m.id });
  } catch (err) {
    reply({
      type: "written",
      id: m.id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
};
