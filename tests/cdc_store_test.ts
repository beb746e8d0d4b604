/**
 * The CDC job's Cassandra writes against a real Cassandra, checked against the in-memory store
 * that the unit tests trust: users_dim per-cell last-write-wins (a newer CDC row state replaces
 * the field map, an older one arriving later does not; profile cells newer than the row state
 * survive it), truncations, and the serving layer's reads of users_dim and cdc_operations_rt.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createCassandraClient } from "../shared/cassandra.ts";
import { cdcTransformationJob } from "../processors/jobs/cdc/cdc_job.ts";
import {
  cassandraUserDimStore,
  MemoryUserDimStore,
  type UserDimStore,
} from "../processors/jobs/cdc/user_dim.ts";
import type { DimWrite } from "../processors/jobs/cdc/transformer.ts";
import { CassandraViewStore } from "../processors/store/cassandra_store.ts";
import { EventGate } from "../processors/operators/event_gate.ts";
import { parseEvent } from "../shared/events.ts";
import { pgChange, userKey } from "../processors/jobs/cdc/_fixtures.ts";
import { cassandraExtStore } from "../serving/ext/store.ts";
import { applySchema } from "../infra/schema.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";

const T = Date.UTC(2026, 10, 20, 5, 0, 0);

function cdc(id: string, ts: number, fields: Record<string, string> | null, op = "u"): DimWrite {
  return {
    entityId: id,
    action: fields ? "upsert" : "delete",
    fields,
    op: op as DimWrite["op"],
    position: `lsn:${ts}`,
    sourceTsMs: ts,
    writeTs: ts * 1000,
  };
}

/** The same writes in the same order, to a store. */
async function scenario(s: UserDimStore) {
  // u1: newer row state first, then an older one (must lose), then a profile cell between them
  await s.writeCdc([cdc("u1", T + 2000, { id: "u1", plan: "premium", country: "DE" })]);
  await s.writeCdc([cdc("u1", T + 1000, { id: "u1", plan: "free", bio: "old" })]);
  await s.writeProfile([{
    userId: "u1",
    field: "bio",
    value: "hello",
    writeTs: (T + 3000) * 1000,
  }]);
  await s.writeProfile([{ userId: "u1", field: "plan", value: "x", writeTs: (T + 1500) * 1000 }]);
  await s.writeAuth([{
    userId: "u1",
    device: "mobile",
    country: "BR",
    authAt: T + 4000,
    writeTs: (T + 4000) * 1000,
  }]);
  await s.writeAuth([{
    userId: "u1",
    device: "web",
    country: null,
    authAt: T + 3500,
    writeTs: (T + 3500) * 1000,
  }]);
  await s.writeRisk([{
    userId: "u1",
    riskFlags: ["impossible_travel"],
    engagementScore: 7.5,
    at: T + 4000,
    writeTs: (T + 4000) * 1000,
  }]);
  // u2: profile cell older than a later CDC row state is dropped by it; then deleted
  await s.writeProfile([{ userId: "u2", field: "bio", value: "b", writeTs: (T + 100) * 1000 }]);
  await s.writeCdc([cdc("u2", T + 200, { id: "u2", plan: "free" }, "c")]);
  await s.writeCdc([cdc("u2", T + 300, null, "d")]);
  // u3 and u4: u3 written before a truncate, u4 after
  await s.writeCdc([cdc("u3", T + 400, { id: "u3" }, "c")]);
  await s.writeTruncations([{
    table: "users",
    position: "lsn:1",
    sourceTsMs: T + 500,
    writeTs: (T + 500) * 1000,
  }]);
  await s.writeCdc([cdc("u4", T + 600, { id: "u4" }, "c")]);
}

Deno.test({
  name: "users_dim in Cassandra keeps the newest value per cell, exactly like the memory store",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureServers();
    const env = isolatedTestEnv();
    await applySchema(env.cfg); // Cassandra only: no topics needed
    const client = createCassandraClient(env.cfg);
    try {
      const real = cassandraUserDimStore(client);
      const mem = new MemoryUserDimStore();
      await scenario(real);
      await scenario(mem);
      const ids = ["u1", "u2", "u3", "u4", "nobody"];
      const got = await real.get(ids);
      assertEquals(got, await mem.get(ids));
      const u1 = got.get("u1")!;
      assertEquals(u1.fields, { bio: "hello", country: "DE", id: "u1", plan: "premium" });
      assertEquals([u1.lastDevice, u1.lastCountry, u1.lastAuthAt], ["mobile", "BR", T + 4000]);
      assertEquals([u1.riskFlags, u1.engagementScore], [["impossible_travel"], 7.5]);
      assertEquals(got.get("u2")!.fields, { id: "u2", plan: "free" });
      assertEquals(
        ids.slice(0, 4).map((id) => got.get(id)!.deleted),
        [false, true, true, false],
      );
      // The serving layer reads the same rows.
      const ext = cassandraExtStore(client);
      const su1 = await ext.user("u1");
      assertEquals(su1?.fields, u1.fields);
      assertEquals([su1?.device, su1?.country, su1?.hasCdc], ["mobile", "BR", true]);
      assertEquals((await ext.user("u3"))?.deleted, true);
      assertEquals(await ext.user("nobody"), undefined);
    } finally {
      await client.shutdown();
      await env.cleanup();
    }
  },
});

Deno.test({
  name: "cdc_operations_rt rows written by the job are what cdcSummary reads",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureServers();
    const env = isolatedTestEnv();
    await applySchema(env.cfg); // Cassandra only: no topics needed
    const client = createCassandraClient(env.cfg);
    try {
      const viewStore = new CassandraViewStore(client, { ttlSeconds: 3600 });
      const job = cdcTransformationJob(env.cfg, {
        viewStore,
        dims: cassandraUserDimStore(client),
        fsync: false,
      });
      for (const partition of [0, 1]) {
        const gate = new EventGate({ allowedLatenessMs: 600_000 });
        const task = await job.createTask("CDC", partition, undefined, {
          topicName: env.cfg.topics.CDC,
          gate: {
            replayPoint: () => gate.replayPoint(),
            get maxEventTime() {
              return gate.maxEventTime;
            },
            get watermark() {
              return gate.watermark;
            },
          },
        });
        const raws = [
          pgChange("c", T + partition, { after: { id: `a${partition}` }, lsn: 10 }),
          pgChange("u", T + 61_000, { after: { id: `a${partition}` }, lsn: 20 }),
          pgChange("d", T + 62_000, { before: { id: `a${partition}` }, lsn: 30 }),
        ];
        raws.forEach((raw, offset) => {
          const ev = parseEvent("CDC", raw, { now: T + 86_400_000 }).ok!;
          const d = gate.decide(undefined, ev.eventTime, T, offset);
          task.onEvent(
            ev,
            {
              topic: "CDC",
              partition,
              offset,
              kafkaTs: T,
              raw,
              key: userKey(`a${partition}`),
            },
            false,
            d,
          );
        });
        await task.flush(raws.length);
        await task.close();
      }
      const rows = await cassandraExtStore(client).cdcMinutes("users", T, T + 120_000);
      assertEquals(
        rows.map((r) => [r.minute - T, r.kpart, r.inserts, r.updates, r.deletes]).sort(),
        [[0, 0, 1, 0, 0], [0, 1, 1, 0, 0], [60000, 0, 0, 1, 1], [60000, 1, 0, 1, 1]],
      );
      assertEquals((await cassandraUserDimStore(client).get(["a0"])).get("a0")!.deleted, true);
    } finally {
      await client.shutdown();
      await env.cleanup();
    }
  },
});
