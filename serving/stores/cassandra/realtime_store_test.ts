import assert from "node:assert/strict";
import type { Client } from "cassandra-driver";
import { CassandraRealtimeStore } from "./realtime_store.ts";

/** A client whose every query answers one stream_status row whose lag counts the queries. */
function fakeClient() {
  const calls = { n: 0 };
  const client = {
    execute() {
      const n = ++calls.n;
      return Promise.resolve({
        rows: [{ topic: "t", kpart: 0, watermark: 1, max_event_time: 2, lag: n }],
        pageState: null,
      });
    },
  } as unknown as Client;
  return { client, calls };
}

Deno.test("an answer past half its life is reloaded in the background and never served older than cacheMs", async () => {
  const { client, calls } = fakeClient();
  let now = 0;
  const store = new CassandraRealtimeStore(client, {
    consumerGroup: "g",
    cacheMs: 1000,
    now: () => now,
  });
  const lag = async () => (await store.status()).lag[0].lag;
  assert.equal(await lag(), 1);
  now = 400;
  assert.equal(await lag(), 1, "young: from the cache, no query");
  assert.equal(calls.n, 1);
  now = 600;
  assert.equal(await lag(), 1, "past half its life: still served while it reloads");
  assert.equal(calls.n, 2);
  await new Promise((r) => setTimeout(r, 0));
  now = 1100;
  assert.equal(await lag(), 2, "the reload (sent at 600) replaced it");
  assert.equal(calls.n, 3, "and is itself past half its life: reloaded again");
  now = 2700;
  assert.equal(await lag(), 4, "older than cacheMs: loaded on the request path");
  assert.equal(calls.n, 4);
});
