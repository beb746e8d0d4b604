/**
 * End to end through the real servers: generated traffic for about three days up to now → Kafka →
 * `deno task process` (speed layer and archiver) → the batch layer publishes every hour up to two
 * hours before now → the serving layer answers random ranges and granularities that all cross
 * batchThrough, and every figure equals the reference calculator's (counts and sums exact,
 * distinct counts within 2 %, percentiles within 1 %).
 */
import assert from "node:assert/strict";
import { runBatch } from "../batch/run.ts";
import { generate } from "../generator/generate.ts";
import { produceRecords } from "../generator/produce.ts";
import { Reference } from "../generator/reference.ts";
import { Rng } from "../generator/_rng.ts";
import { startProcessor } from "../processors/testing/processor_child.ts";
import { endOffsets, waitForCheckpoints } from "../processors/testing/progress.ts";
import { VIEW_JOBS } from "../processors/testing/jobs.ts";
import { createServing } from "../serving/server.ts";
import { gql, seriesQuery, viaApp } from "../serving/testing/client.ts";
import { assertFigure, assertSeries, type SeriesQuery } from "../serving/testing/compare.ts";
import { withOffsets } from "../serving/testing/master_fixture.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { TOPIC_KEYS } from "../shared/config.ts";
import { createKafka } from "../shared/kafka.ts";
import { createLogger } from "../shared/log.ts";
import { DAY_MS, floorDay, floorHour, HOUR_MS, isoDate, MINUTE_MS } from "../shared/time.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";

const RATE = Number(Deno.env.get("SERVING_E2E_RATE") ?? 0.2); // events per second of event time
const QUERIES = Number(Deno.env.get("SERVING_E2E_QUERIES") ?? 80);

Deno.test({
  name: "serving e2e: merged GraphQL answers across batchThrough equal the reference calculator",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await ensureServers();
    const env = isolatedTestEnv({ env: { HEALTH_PORT: "0" } });
    await env.setup();
    const cfg = env.cfg;
    const kafka = createKafka(cfg, "serving-e2e-test");
    const client = createCassandraClient(cfg);
    const log = createLogger({ name: "serving-e2e", level: "warn" });
    const now0 = Date.now();
    // batchThrough two complete hours before now (batch publishes an hour 2 min after it ends),
    // so ranges crossing it have realtime hours after it at any time of day; batch from two days
    // before B's day.
    const B = floorHour(now0 - 2 * MINUTE_MS) - 2 * HOUR_MS;
    const bDay = floorDay(B);
    const start = bDay - 2 * DAY_MS;
    const end = now0 - MINUTE_MS;
    const hoursOfBDay = (B - bDay) / HOUR_MS;

    const generated = [...generate({
      seed: 2026,
      users: 500,
      courses: 10,
      startMs: start,
      endMs: end,
      now: end,
      eventsPerSecond: RATE,
      partitions: cfg.topicPartitions,
      tooLarge: false,
    })];
    const { refused } = await produceRecords(cfg, generated, { kafka });
    const refusedSet = new Set(refused);
    const records = withOffsets(generated.filter((r) => !refusedSet.has(r)));
    const reference = new Reference(records, {
      now: end,
      allowedLatenessMs: cfg.allowedLatenessMs,
    });

    const proc = await startProcessor(env.env, {
      jobs: [...VIEW_JOBS.map((j) => j.name), "archiver"],
    });
    let serving: ReturnType<typeof createServing> | undefined;
    try {
      const ends = await endOffsets(kafka, TOPIC_KEYS.map((k) => cfg.topics[k]));
      await waitForCheckpoints(
        client,
        cfg.consumerGroup,
        [
          ...VIEW_JOBS.map((j) => ({ name: j.name, topics: j.topics.map((k) => cfg.topics[k]) })),
          { name: "archiver", topics: TOPIC_KEYS.map((k) => cfg.topics[k]) },
        ],
        ends,
        { timeoutMs: 300_000 },
      );

      const dates = [isoDate(start), isoDate(start + DAY_MS)];
      const hours: Record<string, number[]> = {};
      if (hoursOfBDay > 0) {
        dates.push(isoDate(bDay));
        hours[isoDate(bDay)] = Array.from({ length: hoursOfBDay }, (_, h) => h);
      }
      await runBatch(cfg, { dates, hours }, { threads: 2, log });

      serving = createServing(cfg, { logger: log, dashboard: false, cassandra: client });
      const request = viaApp(serving.app);

      await t.step("provenance: batchThrough from the manifest, realtime live", async () => {
        const r = await gql(
          request,
          `{ servingStatus { batchThrough realtimeWatermark lag { lag } } }`,
        );
        assert.equal(r.body.data.servingStatus.batchThrough, new Date(B).toISOString());
        assert.ok(r.body.data.servingStatus.realtimeWatermark !== null);
        assert.ok(r.body.data.servingStatus.lag.every((l: { lag: number }) => l.lag === 0));
      });

      const rng = new Rng(5);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.next() * xs.length)];
      const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1));
      const distinct = (f: (e: (typeof reference.sets.batch)[number]) => string | undefined) =>
        [...new Set(reference.sets.realtime.map(f).filter((x): x is string => !!x))].sort();
      const users = reference.userIds();
      const courses = distinct((e) => e.courseId);
      const videos = distinct((e) => e.videoId);
      const assessments = distinct((e) => e.assessmentId);
      const nowHour = floorHour(Date.now());

      await t.step(
        `${QUERIES} random series crossing batchThrough equal the reference`,
        async () => {
          const kinds: SeriesQuery[] = [
            "eventCounts",
            "courseEngagement",
            "videoViews",
            "assessmentScores",
            "userActivity",
          ];
          let crossing = 0;
          for (let i = 0; i < QUERIES; i++) {
            const q = kinds[i % kinds.length];
            const g = (["HOUR", "DAY", "MINUTE"] as const)[i % 3];
            let from: number, to: number;
            if (g === "MINUTE") {
              from = B - int(5, 180) * MINUTE_MS;
              to = B + int(1, 110) * MINUTE_MS;
            } else {
              from = Math.max(start, B - int(1, 40) * HOUR_MS);
              to = Math.min(nowHour, B + int(1, 2) * HOUR_MS);
            }
            if (from < B && to > B) crossing++;
            const args = { from, to, granularity: g };
            const vars: Record<string, unknown> = {
              from: new Date(from).toISOString(),
              to: new Date(to).toISOString(),
              g,
            };
            let expected;
            if (q === "eventCounts") {
              const f: { eventType?: string; appType?: string; userId?: string } = {};
              if (rng.next() < 0.3) f.eventType = pick(["page_view", "click", "search", "scroll"]);
              if (rng.next() < 0.3) f.appType = pick(["web", "mobile"]);
              if (rng.next() < 0.2) f.userId = pick(users);
              Object.assign(vars, f);
              expected = reference.eventCounts({ ...args, ...f }, B);
            } else if (q === "courseEngagement") {
              vars.id = pick(courses);
              expected = reference.courseEngagement({ ...args, courseId: vars.id as string }, B);
            } else if (q === "videoViews") {
              vars.id = pick(videos);
              expected = reference.videoViews({ ...args, videoId: vars.id as string }, B);
            } else if (q === "assessmentScores") {
              vars.id = pick(assessments);
              expected = reference.assessmentScores(
                { ...args, assessmentId: vars.id as string },
                B,
              );
            } else {
              vars.id = pick(users);
              expected = reference.userActivity({ ...args, userId: vars.id as string }, B);
            }
            const r = await gql(request, seriesQuery(q), vars);
            const where = `#${i} ${q} ${JSON.stringify(vars)}`;
            assert.equal(r.body.errors, undefined, `${where}: ${JSON.stringify(r.body.errors)}`);
            const answer = r.body.data[q];
            assert.equal(
              answer.provenance.complete,
              true,
              `${where}: gaps ${JSON.stringify(answer.provenance.gaps)}`,
            );
            assert.equal(answer.provenance.batchThrough, new Date(B).toISOString());
            assertSeries(q, answer, expected, where);
          }
          assert.equal(crossing, QUERIES, "every range crosses batchThrough");
        },
      );

      await t.step("recentActivity: windows summed on read equal the reference", async () => {
        // Reference windows computed from the events (5 min ending at each minute boundary), not
        // from the minute rows the serving layer sums.
        const rows = reference.realtimeRows("user_activity_windows")
          .filter((r) => (r.window_end as number) > now0 - 70 * HOUR_MS);
        const want = new Map(
          rows.map((r) => [`${r.user_id}\u0000${r.window_end}`, r.events as number]),
        );
        let nonZero = 0;
        for (let i = 0; i < 20; i++) {
          const row = pick(rows);
          const userId = row.user_id as string;
          const at = (row.window_end as number) - MINUTE_MS + int(0, 59_999) +
            int(0, 14) * MINUTE_MS;
          const r = await gql(
            request,
            `query($u: ID!, $at: DateTime!) { recentActivity(userId: $u, at: $at) { windows { start end events } } }`,
            { u: userId, at: new Date(at).toISOString() },
          );
          assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
          const windows: { start: string; end: string; events: number }[] =
            r.body.data.recentActivity.windows;
          const lastEnd = Math.floor(at / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
          assert.equal(windows.length, 15);
          windows.forEach((w, k) => {
            const end = lastEnd - (14 - k) * MINUTE_MS;
            assert.equal(Date.parse(w.end), end);
            assert.equal(Date.parse(w.start), end - 5 * MINUTE_MS);
            const exp = want.get(`${userId}\u0000${end}`) ?? 0;
            assert.equal(w.events, exp, `${userId} window ending ${new Date(end).toISOString()}`);
            if (exp > 0) nonZero++;
          });
        }
        assert.ok(nonZero >= 20, `windows with events: ${nonZero}`);
      });

      await t.step(
        "sessions: each owned by the layer covering its start, as the reference",
        async () => {
          for (let i = 0; i < 25; i++) {
            const userId = pick(users);
            const from = start, to = nowHour;
            const r = await gql(
              request,
              `query($u: ID!, $from: DateTime!, $to: DateTime!) { sessions(userId: $u, from: $from, to: $to) { sessionId start end durationSec clicks uniquePages path } }`,
              { u: userId, from: new Date(from).toISOString(), to: new Date(to).toISOString() },
            );
            assert.equal(r.body.errors, undefined, JSON.stringify(r.body.errors));
            const exp = reference.sessions(userId, { from, to }, B)
              .sort((a, b) => a.start - b.start || (a.sessionId < b.sessionId ? -1 : 1));
            const got = r.body.data.sessions;
            assert.equal(got.length, exp.length, `sessions of ${userId}`);
            got.forEach((s: Record<string, unknown>, j: number) => {
              assert.equal(s.sessionId, exp[j].sessionId);
              assert.equal(Date.parse(s.start as string), exp[j].start);
              assert.equal(
                Date.parse(s.end as string),
                exp[j].end,
                `end of ${userId}/${s.sessionId}`,
              );
              assert.equal(s.clicks, exp[j].clicks);
              assert.equal(s.uniquePages, exp[j].uniquePages);
              assertFigure("sum", s.durationSec as number, exp[j].durationSec, "durationSec");
              assert.deepEqual(s.path, exp[j].path);
            });
          }
        },
      );

      await t.step("dailySummary and userSegment of the last complete day", async () => {
        const day = isoDate(start + DAY_MS);
        const r = await gql(
          request,
          `{ dailySummary(date: "${day}") { date totalEvents activeUsers sessions avgSessionDurationSec p95SessionDurationSec eventsByType { key count } logins enrollments completions } }`,
        );
        const exp = reference.dailySummary(day);
        const got = r.body.data.dailySummary;
        for (
          const f of [
            "totalEvents",
            "activeUsers",
            "sessions",
            "logins",
            "enrollments",
            "completions",
          ] as const
        ) {
          assert.equal(got[f], exp[f], `dailySummary.${f}`);
        }
        assertFigure("sum", got.avgSessionDurationSec, exp.avgSessionDurationSec, "avg");
        assertFigure("exact", got.p95SessionDurationSec, exp.p95SessionDurationSec, "p95");
        assert.deepEqual(got.eventsByType, exp.eventsByType);
        for (const userId of users.slice(0, 20)) {
          const s = await gql(
            request,
            `query($u: ID!) { userSegment(userId: $u, date: "${day}") { segment engagementScore sessionFrequency contentInterest devicePreference } }`,
            { u: userId },
          );
          const e = reference.userSegment(userId, day);
          const g = s.body.data.userSegment;
          if (e === null) {
            assert.equal(g, null);
            continue;
          }
          assert.equal(g.segment, e.segment, `segment of ${userId}`);
          assertFigure("sum", g.engagementScore, e.engagementScore, `score of ${userId}`);
          assert.deepEqual(
            [g.sessionFrequency, g.contentInterest, g.devicePreference],
            [e.sessionFrequency, e.contentInterest, e.devicePreference],
          );
        }
      });
    } catch (e) {
      console.error(proc.logs.slice(-30).join("\n"));
      throw e;
    } finally {
      proc.kill("SIGTERM");
      await proc.status;
      await serving?.close();
      await client.shutdown().catch(() => {});
      await env.cleanup();
    }
  },
});
