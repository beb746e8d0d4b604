/**
 * The realtime store against a real Cassandra: rows of several Kafka partitions (and source
 * topics) per minute are summed, sketches merged, one partition read per query, the status derived
 * from stream_status, and a merged GraphQL answer combines them with batch hours exactly.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServingApp } from "../serving/app.ts";
import { createMergeEngine } from "../serving/merge/engine.ts";
import { MemoryBatchStore } from "../serving/merge/memory.ts";
import { CassandraRealtimeStore } from "../serving/stores/cassandra/realtime_store.ts";
import { gql, viaApp } from "../serving/testing/client.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { createLogger } from "../shared/log.ts";
import { DistinctSketch, QuantileSketch } from "../shared/sketch/mod.ts";
import { HOUR_MS, MINUTE_MS } from "../shared/time.ts";
import { applySchema } from "../infra/schema.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";

const NOW = Date.now();
const H0 = NOW - (NOW % HOUR_MS) - 3 * HOUR_MS; // three hours ago, hour-aligned
const blob = (b: Uint8Array) => Buffer.from(b);

Deno.test({
  name: "the Cassandra realtime store sums partitions and merges sketches per minute",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await ensureServers();
    const env = isolatedTestEnv();
    await applySchema(env.cfg); // Cassandra only: this test needs no topics
    const client = createCassandraClient(env.cfg);
    try {
      const exec = (q: string, p: unknown[]) => client.execute(q, p, { prepare: true });
      // Course c1: minute H0+5 from kpart 0 (topic course) and kpart 3 (topics course + video).
      const courseRow =
        "INSERT INTO realtime_course_engagement (course_id, minute, kpart, topic, enrollments, " +
        "unenrollments, completions, progress_events, active_users) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
      const m5 = new Date(H0 + 5 * MINUTE_MS);
      await exec(courseRow, [
        "c1",
        m5,
        0,
        "course",
        2,
        1,
        0,
        4,
        blob(DistinctSketch.of(["a", "b"]).serialize()),
      ]);
      await exec(courseRow, [
        "c1",
        m5,
        3,
        "course",
        1,
        0,
        1,
        0,
        blob(DistinctSketch.of(["b", "c"]).serialize()),
      ]);
      await exec(courseRow, [
        "c1",
        m5,
        3,
        "video",
        0,
        0,
        0,
        0,
        blob(DistinctSketch.of(["d"]).serialize()),
      ]);
      await exec(courseRow, [
        "c1",
        new Date(H0 + 2 * HOUR_MS),
        1,
        "course",
        5,
        0,
        0,
        0,
        blob(DistinctSketch.of(["e"]).serialize()),
      ]);
      await exec(courseRow, [
        "c2",
        m5,
        0,
        "course",
        100,
        0,
        0,
        0,
        blob(DistinctSketch.of(["z"]).serialize()),
      ]);
      const scoreRow =
        "INSERT INTO realtime_assessment_scores (assessment_id, minute, kpart, started, submitted, " +
        "graded, sum_percent, min_percent, max_percent, percent_sketch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      await exec(scoreRow, [
        "a1",
        m5,
        0,
        1,
        1,
        2,
        150,
        50,
        100,
        blob(QuantileSketch.of([50, 100]).serialize()),
      ]);
      await exec(scoreRow, [
        "a1",
        m5,
        1,
        0,
        0,
        0,
        0,
        null,
        null,
        blob(QuantileSketch.empty().serialize()),
      ]);
      const appAll =
        "INSERT INTO app_event_counts_rt (hour, minute, event_type, app_type, kpart, event_count) VALUES (?, ?, ?, ?, ?, ?)";
      for (let h = 0; h < 3; h++) {
        const hour = new Date(H0 + h * HOUR_MS);
        await exec(appAll, [
          hour,
          new Date(H0 + h * HOUR_MS + MINUTE_MS),
          "click",
          "web",
          0,
          10 + h,
        ]);
        await exec(appAll, [hour, new Date(H0 + h * HOUR_MS + MINUTE_MS), "click", "web", 4, 100]);
        await exec(appAll, [
          hour,
          new Date(H0 + h * HOUR_MS + 2 * MINUTE_MS),
          "search",
          "api",
          2,
          1000,
        ]);
      }
      const sessionRow =
        "INSERT INTO clickstream_sessions (user_id, session_start, session_id, session_end, " +
        "duration_sec, clicks, unique_pages, path, closed, kpart) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      await exec(sessionRow, [
        "u1",
        m5,
        "s1",
        new Date(H0 + 9 * MINUTE_MS),
        240,
        3,
        2,
        ["/a", "/b", "/a"],
        true,
        2,
      ]);
      const statusRow =
        "INSERT INTO stream_status (consumer_group, topic, kpart, watermark, max_event_time, " +
        "next_offset, end_offset, lag, last_data_at, owner, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      await exec(statusRow, [
        env.cfg.consumerGroup,
        "app",
        0,
        NOW - 700_000,
        NOW - 100_000,
        10,
        12,
        2,
        new Date(NOW - 1000),
        "me",
        new Date(NOW - 500),
      ]);
      await exec(statusRow, [
        env.cfg.consumerGroup,
        "app",
        1,
        NOW - 650_000,
        NOW - 50_000,
        10,
        10,
        0,
        new Date(NOW - 1000),
        "me",
        new Date(NOW - 500),
      ]);

      const store = new CassandraRealtimeStore(client, {
        consumerGroup: env.cfg.consumerGroup,
        cacheMs: 1000,
        now: () => NOW,
      });

      await t.step("one minute sums every partition and topic row; sketches merge", async () => {
        const rows = await store.minutes("courseEngagement", { courseId: "c1" }, H0, H0 + HOUR_MS);
        assert.deepEqual([...rows.keys()], [H0 + 5 * MINUTE_MS]);
        const f = rows.get(H0 + 5 * MINUTE_MS)!;
        assert.deepEqual([f.enrollments, f.unenrollments, f.completions], [3, 1, 1]);
        assert.equal(f.activeUsers.estimate(), 4);
        const a =
          (await store.minutes("assessmentScores", { assessmentId: "a1" }, H0, H0 + HOUR_MS))
            .get(H0 + 5 * MINUTE_MS)!;
        assert.deepEqual([a.graded, a.sumPercent, a.minPercent, a.maxPercent], [2, 150, 50, 100]);
      });

      await t.step(
        "unfiltered app events read one partition per hour and filter by type",
        async () => {
          const before = store.stats.queries;
          const all = await store.minutes("appEvents", {}, H0, H0 + 3 * HOUR_MS);
          assert.equal(store.stats.queries - before, 3);
          assert.equal(
            [...all.values()].reduce((s, f) => s + f.count, 0),
            10 + 11 + 12 + 300 + 3000,
          );
          const clicks = await store.minutes(
            "appEvents",
            { eventType: "click" },
            H0,
            H0 + 3 * HOUR_MS,
          );
          assert.equal([...clicks.values()].reduce((s, f) => s + f.count, 0), 333);
        },
      );

      await t.step(
        "a repeated read within REALTIME_CACHE_MS is served from the cache",
        async () => {
          const before = { ...store.stats };
          await store.minutes("courseEngagement", { courseId: "c1" }, H0, H0 + HOUR_MS);
          assert.equal(store.stats.queries, before.queries);
          assert.equal(store.stats.cacheHits, before.cacheHits + 1);
        },
      );

      await t.step("status: watermark, liveness and lag from stream_status", async () => {
        const s = await store.status();
        assert.equal(s.watermark, NOW - 700_000);
        assert.equal(s.newestEventTime, NOW - 50_000);
        assert.equal(s.live, true);
        assert.deepEqual(s.lag, [{ topic: "app", partition: 0, lag: 2 }, {
          topic: "app",
          partition: 1,
          lag: 0,
        }]);
      });

      await t.step("GraphQL merges batch hours before batchThrough with these rows", async () => {
        const batch = new MemoryBatchStore().publish(H0 - 5 * HOUR_MS, H0 + HOUR_MS);
        batch.add("courseEngagement", "c1", H0, {
          enrollments: 1000,
          unenrollments: 0,
          completions: 0,
          activeUsers: DistinctSketch.of(["x"]),
        });
        const engine = createMergeEngine({ batch, realtime: store, now: () => NOW });
        const { app } = createServingApp({
          engine,
          config: { mode: "test", servingTokens: [], corsOrigins: [], requestTimeoutMs: 30_000 },
          logger: createLogger({ name: "t", level: "warn" }),
        });
        const r = await gql(
          viaApp(app),
          `query($from: DateTime!, $to: DateTime!) {
            courseEngagement(courseId: "c1", from: $from, to: $to) {
              total { enrollments activeUsers source }
              points { start source enrollments }
              provenance { batchThrough realtimeWatermark complete gaps { start end } }
            }
            sessions(userId: "u1", from: $from, to: $to) { sessionId path durationSec }
            servingStatus { lag { topic partition lag } }
          }`,
          { from: new Date(H0).toISOString(), to: new Date(H0 + 3 * HOUR_MS).toISOString() },
        );
        assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
        const c = r.body.data.courseEngagement;
        // Hour H0 is batch (the realtime rows of H0+5 min are not counted again); H0+2h is realtime.
        assert.deepEqual(
          c.points.map((p: { source: string; enrollments: number }) => [p.source, p.enrollments]),
          [
            ["BATCH", 1000],
            ["REALTIME", 0],
            ["REALTIME", 5],
          ],
        );
        assert.deepEqual(c.total, { enrollments: 1005, activeUsers: 2, source: "MIXED" });
        assert.equal(c.provenance.complete, true);
        assert.equal(c.provenance.batchThrough, new Date(H0 + HOUR_MS).toISOString());
        // The session started before batchThrough: batch owns it, and batch has none.
        assert.deepEqual(r.body.data.sessions, []);
        assert.equal(r.body.data.servingStatus.lag.length, 2);
      });

      await t.step("realtime sessions are answered after batchThrough", async () => {
        const sessions = await store.sessions("u1", H0, H0 + HOUR_MS);
        assert.equal(sessions.length, 1);
        assert.deepEqual(sessions[0].path, ["/a", "/b", "/a"]);
        assert.equal(sessions[0].end - sessions[0].start, 4 * MINUTE_MS);
      });
    } finally {
      await client.shutdown();
      await env.cleanup();
    }
  },
});
