/**
 * End to end with the real speed layer: `deno task process --jobs cdc_transformation,data_enrichment`
 * against real Kafka and Cassandra. A user's profile changes mid-stream (a Debezium update on
 * topic_cdc_changes and the app's profile_topic event); the user's events consumed after the
 * change carry the new values, the events before it the old ones, an unknown user's event is
 * enriched with empty fields and `unknown_user`, and the GraphQL `user(id)` and `cdcSummary`
 * additions answer from what the jobs wrote.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Consumer, KafkaMessage } from "kafkajs";
import { createSchema, createYoga } from "graphql-yoga";
import { createCassandraClient } from "../shared/cassandra.ts";
import { createKafka, createProducer } from "../shared/kafka.ts";
import { cassandraUserDimStore } from "../processors/jobs/cdc/user_dim.ts";
import { HEADERS } from "../processors/jobs/enrichment/enriched.ts";
import { pgChange, userKey } from "../processors/jobs/cdc/_fixtures.ts";
import { createResolvers } from "../serving/graphql/resolvers.ts";
import { typeDefs } from "../serving/graphql/schema.ts";
import { cassandraExtStore, createExtResolvers, extTypeDefs } from "../serving/ext/mod.ts";
import { until } from "../processors/testing/until.ts";
import { ensureServers, isolatedTestEnv, randomId } from "./_servers.ts";

Deno.test({
  name: "a profile change mid-stream reaches the user's later enriched events",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await ensureServers();
    const id = randomId();
    const env = isolatedTestEnv({ id, env: { HEALTH_PORT: "0", LOG_LEVEL: "warn" } });
    const enrichedTopic = env.enrichedTopic;
    await env.setup();
    const cfg = env.cfg;
    const kafka = createKafka(cfg, "enrichment-e2e", { logLevel: "nothing" });
    const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
    const client = createCassandraClient(cfg);
    const dims = cassandraUserDimStore(client);
    const log = await Deno.open(`${env.tmpDir}/processors.log`, { write: true, create: true });
    const proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "processors/main.ts", "--jobs", "cdc_transformation,data_enrichment"],
      env: env.env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pumps = [proc.stdout, proc.stderr].map((s) =>
      s.pipeTo(log.writable, { preventClose: true }).catch(() => {})
    );
    const got: KafkaMessage[] = [];
    let consumer: Consumer | undefined;
    try {
      await producer.connect();
      const now = Date.now();
      const at = (s: number) => new Date(now - 600_000 + s * 1000).toISOString();
      const send = (topic: string, key: string | null, value: string) =>
        producer.send({ topic, acks: -1, messages: [{ key, value }] });
      let n = 0;
      const video = (user: string, s: number) =>
        send(
          cfg.topics.VIDEO,
          user,
          JSON.stringify({
            event_id: `v${n++}`,
            user_id: user,
            timestamp: at(s),
            video_id: "vid-1",
            course_id: "c-1",
            action: "play",
          }),
        );
      const ann = { id: "u1", display_name: "Ann", plan: "free", country: "DE" };
      await send(
        cfg.topics.CDC,
        userKey("u1", true),
        pgChange("r", now - 600_000, { after: ann, lsn: 100, wrapped: true }),
      );
      await until("the snapshot in users_dim", async () => {
        const d = (await dims.get(["u1"])).get("u1");
        return d?.fields.display_name === "Ann" ? d : undefined;
      });

      consumer = kafka.consumer({ groupId: `t_${id}_check` });
      await consumer.connect();
      await consumer.subscribe({ topic: enrichedTopic, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          got.push(message);
          return Promise.resolve();
        },
      });
      const seen = (count: number) =>
        until(
          `${count} enriched events`,
          () => Promise.resolve(got.length >= count ? true : undefined),
        );

      // Before the change.
      await video("u1", 10);
      await video("u1", 11);
      await video("ghost", 12);
      await seen(3);

      // The change: the database row (CDC update) and the app's profile event.
      await send(
        cfg.topics.CDC,
        userKey("u1"),
        pgChange("u", now - 600_000 + 20_000, {
          before: ann,
          after: { ...ann, display_name: "Anna", plan: "premium" },
          lsn: 200,
        }),
      );
      await send(
        cfg.topics.PROFILE,
        "u1",
        JSON.stringify({
          event_id: "p1",
          user_id: "u1",
          timestamp: at(20),
          changes: { display_name: "Anna" },
        }),
      );
      await until("the update in users_dim", async () => {
        const d = (await dims.get(["u1"])).get("u1");
        return d?.fields.plan === "premium" ? d : undefined;
      });
      await seen(4); // the profile event itself is enriched too

      // After the change.
      await send(
        cfg.topics.AUTH,
        "u1",
        JSON.stringify({
          event_id: "a1",
          user_id: "u1",
          timestamp: at(30),
          action: "login",
          device: "tablet",
          country: "PT",
        }),
      );
      // Topics are read independently: an event counts as "later" once the one before it was
      // processed (docs/ENRICHMENT.md, "Ordering").
      await seen(5);
      await video("u1", 31);
      await video("ghost", 32);
      await seen(7);

      const values = got.map((m) => ({
        v: JSON.parse(m.value!.toString()),
        offset: Number(m.headers![HEADERS.offset]!.toString()),
        topic: m.headers![HEADERS.topic]!.toString(),
      }));
      const u1 = values.filter((x) => x.v.user_id === "u1").sort((a, b) =>
        a.v.event_time < b.v.event_time ? -1 : 1
      );
      assertEquals(
        u1.map((x) => [x.topic, x.v.user.profile.display_name, x.v.user.profile.plan]),
        [
          [cfg.topics.VIDEO, "Ann", "free"],
          [cfg.topics.VIDEO, "Ann", "free"],
          [cfg.topics.PROFILE, "Anna", "premium"],
          [cfg.topics.AUTH, "Anna", "premium"],
          [cfg.topics.VIDEO, "Anna", "premium"],
        ],
      );
      assertEquals(u1[4].v.user.source_position, "lsn:200");
      assertEquals([u1[4].v.device, u1[4].v.country], ["tablet", "PT"]);
      assertEquals(u1.map((x) => x.v.flags), [[], [], [], [], []]);
      const ghost = values.filter((x) => x.v.user_id === "ghost");
      assertEquals(ghost.map((x) => [x.v.flags, x.v.user.profile]), [
        [["unknown_user"], {}],
        [["unknown_user"], {}],
      ]);
      assert(got.every((m) => m.key!.toString() === JSON.parse(m.value!.toString()).user_id));

      // The GraphQL additions answer from what the jobs wrote.
      const yoga = createYoga({
        schema: createSchema({
          typeDefs: [typeDefs, extTypeDefs],
          resolvers: [createResolvers(), createExtResolvers(cassandraExtStore(client))],
        }),
        logging: false,
      });
      const q =
        `{ user(id: "u1") { known deleted plan: field(key: "plan") device country riskFlags }
        cdcSummary(table: "users", from: "${at(-60)}", to: "${
          at(120)
        }") { inserts updates snapshots total } }`;
      const r = await until("user(id) with the auth device", async () => {
        const res = await yoga.fetch("http://localhost/graphql", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: q }),
        });
        const body = await res.json();
        return body.data?.user?.device === "tablet" ? body : undefined;
      });
      assertEquals(r.data, {
        user: {
          known: true,
          deleted: false,
          plan: "premium",
          device: "tablet",
          country: "PT",
          riskFlags: [],
        },
        cdcSummary: { inserts: 0, updates: 1, snapshots: 1, total: 2 },
      });
    } finally {
      await consumer?.disconnect().catch(() => {});
      try {
        proc.kill("SIGTERM");
      } catch { /* exited */ }
      const status = await proc.status;
      await Promise.all(pumps);
      log.close();
      await producer.disconnect().catch(() => {});
      await client.shutdown().catch(() => {});
      if (!status.success) {
        console.error(await Deno.readTextFile(`${env.tmpDir}/processors.log`).catch(() => ""));
      }
      await env.cleanup();
      assert(status.success, `processors exited with ${status.code} after SIGTERM`);
    }
  },
});
