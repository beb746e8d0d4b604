/**
 * Every batch figure equals the reference calculator's (generator/reference.ts): generated past
 * days with duplicates, out-of-order and late arrivals and malformed records are written to a
 * master dataset, the batch runs for the middle day, and each published view is read back through
 * the reader API (batch/outputs.ts) and compared row by row.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { generate, type GeneratedRecord, Reference } from "../generator/mod.ts";
import { resolveConfig } from "../shared/config.ts";
import { DistinctSketch } from "../shared/sketch/hll.ts";
import { QuantileSketch } from "../shared/sketch/quantile.ts";
import { DAY_MS, parseIsoDate } from "../shared/time.ts";
import { createArchiveFixture } from "../batch/archive_fixture.ts";
import { readManifest, readView, toRows as plainRows } from "../batch/outputs.ts";
import { runBatch } from "../batch/run.ts";

type Obj = Record<string, unknown>;

function close(a: number, b: number, what: string): void {
  assert(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

function byKey(rows: Obj[], key: (r: Obj) => string): Map<string, Obj> {
  const m = new Map<string, Obj>();
  for (const r of rows) {
    const k = key(r);
    assert(!m.has(k), `duplicate key ${k}`);
    m.set(k, r);
  }
  return m;
}

function sameKeys(a: Map<string, Obj>, b: Map<string, Obj>, view: string): void {
  assertEquals([view, [...a.keys()].sort()], [view, [...b.keys()].sort()]);
}

const DATE = "2025-03-11";
const LOOKBACK = 2;

Deno.test({
  name: "batch views of a generated day equal the reference calculator's",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "batch-ref-" });
    try {
      const cfg = resolveConfig({ DATA_DIR: `${dir}/data`, OUTPUTS_DIR: `${dir}/outputs` });
      const day = parseIsoDate(DATE);
      const now = day + 3 * DAY_MS;
      const records: GeneratedRecord[] = [];
      const fixture = createArchiveFixture(cfg.dataDir, { topics: cfg.topics, now });
      const kinds = new Map<string, number>();
      for (
        const r of generate({
          seed: 11,
          users: 300,
          courses: 8,
          startMs: day - DAY_MS,
          endMs: day + DAY_MS + 6 * 3_600_000,
          partitions: 2,
          eventsPerSecond: 0.5,
          now,
          duplicateShare: 0.03,
          outOfOrderShare: 0.03,
          lateShare: 0.01,
          malformedShare: 0.01,
          tooLarge: false,
        })
      ) {
        await fixture.add(r);
        records.push(r);
        kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
      }
      await fixture.close();
      assert((kinds.get("duplicate") ?? 0) > 100, `duplicates: ${JSON.stringify([...kinds])}`);
      assert((kinds.get("late") ?? 0) > 10 && (kinds.get("out_of_order") ?? 0) > 100);
      const ref = new Reference(renumber(records), { now });

      const [result] = await runBatch(cfg, { dates: [DATE], lookbackDays: LOOKBACK }, {
        now: () => now,
        settleMs: 0,
      });
      assertEquals(result.hours.length, 24);
      assert(result.load.rowsRead > result.load.rows, "duplicates were read and dropped");
      const m = await readManifest(cfg.outputsDir);
      const view = async (name: string) => plainRows(await readView(cfg.outputsDir, m, name, DATE));
      const inDay = (r: Obj) => (r.hour as number) >= day && (r.hour as number) < day + DAY_MS;

      // user_activity
      {
        const mine = byKey(await view("user_activity"), (r) => `${r.user_id}|${r.hour}`);
        const want = byKey(
          ref.rows("realtime_user_activity", "batch", "hour").filter(inDay),
          (r) => `${r.user_id}|${r.hour}`,
        );
        sameKeys(mine, want, "user_activity");
        for (const [k, w] of want) {
          const { clickstream_events: _c, ...got } = mine.get(k)!;
          assertEquals(got, w);
        }
      }
      // course_engagement
      {
        const mine = byKey(await view("course_engagement"), (r) => `${r.course_id}|${r.hour}`);
        const want = byKey(
          ref.rows("realtime_course_engagement", "batch", "hour").filter(inDay),
          (r) => `${r.course_id}|${r.hour}`,
        );
        sameKeys(mine, want, "course_engagement");
        for (const [k, w] of want) {
          const g = mine.get(k)!;
          const ids = w.active_users as string[];
          for (const f of ["enrollments", "unenrollments", "completions", "progress_events"]) {
            assertEquals([k, f, g[f]], [k, f, w[f]]);
          }
          assertEquals(g.active_users_exact, ids.length);
          assertEquals(g.active_users, DistinctSketch.of(ids).serialize());
        }
      }
      // video_views
      {
        const mine = byKey(await view("video_views"), (r) => `${r.video_id}|${r.hour}`);
        const want = byKey(
          ref.rows("realtime_video_views", "batch", "hour").filter(inDay),
          (r) => `${r.video_id}|${r.hour}`,
        );
        sameKeys(mine, want, "video_views");
        for (const [k, w] of want) {
          const g = mine.get(k)!;
          for (const f of ["plays", "pauses", "completes"]) {
            assertEquals([k, f, g[f]], [k, f, w[f]]);
          }
          close(g.watch_seconds as number, w.watch_seconds as number, `${k} watch_seconds`);
          const ids = w.unique_viewers as string[];
          assertEquals(g.unique_viewers_exact, ids.length);
          assertEquals(g.unique_viewers, DistinctSketch.of(ids).serialize());
        }
      }
      // assessment_scores
      {
        const mine = byKey(await view("assessment_scores"), (r) => `${r.assessment_id}|${r.hour}`);
        const want = byKey(
          ref.rows("realtime_assessment_scores", "batch", "hour").filter(inDay),
          (r) => `${r.assessment_id}|${r.hour}`,
        );
        sameKeys(mine, want, "assessment_scores");
        let graded = 0;
        for (const [k, w] of want) {
          const g = mine.get(k)!;
          for (const f of ["started", "submitted", "graded", "min_percent", "max_percent"]) {
            assertEquals([k, f, g[f]], [k, f, w[f]]);
          }
          close(g.sum_percent as number, w.sum_percent as number, `${k} sum_percent`);
          const percents = w.percents as number[];
          graded += percents.length;
          assertEquals(g.percent_sketch, QuantileSketch.of(percents).serialize());
          const sk = QuantileSketch.deserialize(g.percent_sketch as Uint8Array);
          for (const q of [0.5, 0.95]) {
            if (percents.length === 0) continue;
            const exact = percents[Math.floor(q * (percents.length - 1))];
            assert(Math.abs(sk.quantile(q)! - exact) <= 0.01 * Math.abs(exact), `${k} p${q}`);
          }
        }
        assert(graded > 0, "some graded assessments");
      }
      // notification_funnel
      {
        const mine = byKey(await view("notification_funnel"), (r) => `${r.channel}|${r.hour}`);
        const want = byKey(
          ref.rows("realtime_notification_funnel", "batch", "hour").filter(inDay),
          (r) => `${r.channel}|${r.hour}`,
        );
        sameKeys(mine, want, "notification_funnel");
        for (const [k, w] of want) assertEquals(mine.get(k), w);
      }
      // app_event_counts and hourly_aggregate (from the per-user reference rows)
      {
        const ref4 = ref.rows("events_aggregated_realtime", "batch", "hour").filter(inDay);
        const key = (r: Obj) => `${r.user_id}|${r.hour}|${r.event_type}|${r.app_type}`;
        const mine = byKey(await view("app_event_counts"), key);
        const want = byKey(ref4, key);
        sameKeys(mine, want, "app_event_counts");
        for (const [k, w] of want) assertEquals(mine.get(k)!.event_count, w.event_count);
        const agg = new Map<string, { n: number; users: Set<string>; sessions: Set<string> }>();
        for (const r of ref4) {
          const k = `${r.hour}|${r.event_type}|${r.app_type}`;
          let a = agg.get(k);
          if (!a) agg.set(k, a = { n: 0, users: new Set(), sessions: new Set() });
          a.n += r.event_count as number;
          a.users.add(r.user_id as string);
          for (const s of r.session_ids as string[]) a.sessions.add(s);
        }
        const hourly = byKey(
          await view("hourly_aggregate"),
          (r) => `${r.hour}|${r.event_type}|${r.app_type}`,
        );
        assertEquals([...hourly.keys()].sort(), [...agg.keys()].sort());
        for (const [k, a] of agg) {
          const g = hourly.get(k)!;
          assertEquals([k, g.event_count, g.unique_users, g.unique_sessions], [
            k,
            a.n,
            a.users.size,
            a.sessions.size,
          ]);
        }
      }
      // sessions
      {
        const key = (r: Obj) => `${r.user_id}|${r.session_start}|${r.session_id}`;
        const mine = byKey(await view("sessions"), key);
        const want = byKey(
          ref.rows("clickstream_sessions", "batch").filter((r) =>
            (r.session_start as number) >= day && (r.session_start as number) < day + DAY_MS
          ),
          key,
        );
        sameKeys(mine, want, "sessions");
        for (const [k, w] of want) assertEquals(mine.get(k), w);
      }
      // daily_summary
      {
        const [g] = await view("daily_summary");
        const w = ref.dailySummary(DATE);
        assertEquals(
          {
            date: g.date,
            totalEvents: g.total_events,
            activeUsers: g.active_users,
            sessions: g.sessions,
            eventsByType: JSON.parse(g.events_by_type as string),
            logins: g.logins,
            enrollments: g.enrollments,
            completions: g.completions,
            p95SessionDurationSec: g.p95_session_duration_sec,
          },
          {
            date: w.date,
            totalEvents: w.totalEvents,
            activeUsers: w.activeUsers,
            sessions: w.sessions,
            eventsByType: w.eventsByType,
            logins: w.logins,
            enrollments: w.enrollments,
            completions: w.completions,
            p95SessionDurationSec: w.p95SessionDurationSec,
          },
        );
        close(g.avg_session_duration_sec as number, w.avgSessionDurationSec!, "avg session");
        assert(w.sessions > 0 && w.totalEvents > 1000, "a busy day");
      }
      // user_segmentation
      {
        const mine = byKey(await view("user_segmentation"), (r) => r.user_id as string);
        let compared = 0;
        const segments = new Set<string>();
        for (const u of ref.userIds()) {
          const w = ref.userSegment(u, DATE, { lookbackDays: LOOKBACK });
          const g = mine.get(u);
          if (!w) {
            assertEquals([u, g], [u, undefined]);
            continue;
          }
          assert(g, `segment of ${u}`);
          assertEquals(
            [
              u,
              g.engagement_score,
              g.segment,
              g.session_frequency,
              g.content_interest,
              g.device_preference,
            ],
            [
              u,
              w.engagementScore,
              w.segment,
              w.sessionFrequency,
              w.contentInterest,
              w.devicePreference,
            ],
          );
          segments.add(w.segment);
          compared++;
        }
        assertEquals(compared, mine.size);
        assert(segments.size >= 3, `segments seen: ${[...segments]}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Records with their offsets: the position in their topic-partition, as the fixture numbers them. */
function renumber(records: GeneratedRecord[]) {
  const next = new Map<string, number>();
  return records.map((r) => {
    const k = `${r.topic}:${r.partition}`;
    const o = next.get(k) ?? 0;
    next.set(k, o + 1);
    return { ...r, offset: o };
  });
}
