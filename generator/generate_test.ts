import assert from "node:assert/strict";
import { parseEvent } from "../shared/events.ts";
import { partitionFor } from "../shared/partitioner.ts";
import { floorMinute } from "../shared/time.ts";
import { generate, type GeneratedRecord, type GeneratorOptions } from "./generate.ts";
import { createPopulation } from "./population.ts";
import { Reference } from "./reference.ts";

const START = Date.parse("2026-11-18T06:00:00Z");
const HOUR = 3_600_000;

function run(o: Partial<GeneratorOptions> = {}): GeneratedRecord[] {
  return [
    ...generate({
      seed: 42,
      users: 300,
      startMs: START,
      endMs: START + HOUR,
      eventsPerSecond: 40,
      ...o,
    }),
  ];
}

// One shared stream for the read-only checks below (≈ 150k records).
const OPTIONS: GeneratorOptions = {
  seed: 9,
  users: 400,
  courses: 12,
  startMs: START,
  endMs: START + 2 * HOUR,
  eventsPerSecond: 20,
  partitions: 6,
  malformedShare: 0.02,
  duplicateShare: 0.03,
  outOfOrderShare: 0.04,
  lateShare: 0.01,
  diurnal: false,
};
const RECORDS = [...generate(OPTIONS)];
const NOW = START + 2 * HOUR;

Deno.test("the same options give identical records; another seed gives others", () => {
  const a = run({ endMs: START + 20 * 60_000 });
  const b = run({ endMs: START + 20 * 60_000 });
  assert.ok(a.length > 1000);
  assert.deepEqual(a, b);
  const c = run({ endMs: START + 20 * 60_000, seed: 43 });
  assert.notDeepEqual(a.slice(0, 50), c.slice(0, 50));
});

Deno.test("records come out in arrival order and arrive at or after their event time", () => {
  for (let i = 1; i < RECORDS.length; i++) {
    assert.ok(RECORDS[i].kafkaTs >= RECORDS[i - 1].kafkaTs, `record ${i} arrives before ${i - 1}`);
  }
  for (const r of RECORDS) {
    if (r.eventTime !== undefined) assert.ok(r.kafkaTs >= r.eventTime);
    assert.ok(Number.isSafeInteger(r.kafkaTs));
  }
});

Deno.test("every record's partition is partitionFor(key) and the key is user_id or the CDC key", () => {
  for (const r of RECORDS) {
    assert.equal(r.partition, partitionFor(r.key!, 6));
    if (r.kind === "malformed" || r.value === null) continue;
    const v = JSON.parse(r.value);
    if (r.topic === "CDC") {
      const p = v.payload ?? v;
      assert.equal(r.key, JSON.stringify({ id: (p.after ?? p.before).id }));
    } else assert.equal(r.key, v.user_id);
  }
});

Deno.test("valid records parse with their event time inside the span; malformed ones are rejected as intended", () => {
  const reasons = new Set<string>();
  for (const r of RECORDS) {
    const p = parseEvent(r.topic, r.value, { now: NOW, kafkaTimestamp: r.kafkaTs });
    if (r.kind === "malformed") {
      assert.ok(p.err, `accepted: ${r.value?.slice(0, 120)}`);
      assert.equal(p.err.reason, r.reason);
      reasons.add(r.reason!);
    } else {
      assert.ok(p.ok, `${r.kind} ${r.topic} rejected: ${JSON.stringify(p.err)}`);
      assert.equal(p.ok.eventTime, r.eventTime);
      assert.ok(
        r.eventTime! >= START && (r.eventTime! < START + 2 * HOUR || r.kind === "tombstone"),
      );
    }
  }
  assert.deepEqual([...reasons].sort(), [
    "future_timestamp",
    "invalid_json",
    "invalid_timestamp",
    "invalid_value",
    "missing_field",
    "not_object",
    "too_large",
    "wrong_type",
  ]);
});

Deno.test("the shares of malformed, duplicate, out-of-order and late records are as configured", () => {
  const n = RECORDS.length;
  const share = (kind: string) => RECORDS.filter((r) => r.kind === kind).length / n;
  const near = (kind: string, want: number) => {
    const got = share(kind);
    assert.ok(Math.abs(got - want) <= want * 0.2, `${kind}: ${got.toFixed(4)} vs ${want}`);
  };
  near("malformed", 0.02);
  near("duplicate", 0.03);
  near("out_of_order", 0.04);
  near("late", 0.01);
});

Deno.test("the volume follows eventsPerSecond, and totalEvents stops exactly", () => {
  const perSecond = RECORDS.filter((r) => r.kind !== "tombstone").length / 7200;
  assert.ok(perSecond > 20 * 0.7 && perSecond < 20 * 1.3, `rate ${perSecond}`);
  const few = [...generate({ ...OPTIONS, endMs: undefined, totalEvents: 1234 })];
  assert.equal(few.length, 1234);
  // totalEvents over a fixed span: exactly that many, spread over (most of) the span.
  const spread = [
    ...generate({ ...OPTIONS, eventsPerSecond: undefined, totalEvents: 5000, diurnal: true }),
  ];
  assert.equal(spread.length, 5000);
  assert.ok(spread.at(-1)!.kafkaTs > START + 1.5 * HOUR, "the records end early in the span");
});

Deno.test("kinds agree with the DESIGN.md watermark and dedup rules", () => {
  const ref = new Reference(RECORDS, { now: NOW });
  const count = (k: string) => RECORDS.filter((r) => r.kind === k).length;
  assert.equal(ref.sets.late.length, count("late"));
  assert.equal(
    Object.values(ref.sets.realtimeDeduplicated).reduce((a, b) => a + b),
    count("duplicate"),
  );
  assert.equal(
    Object.values(ref.sets.batchDeduplicated).reduce((a, b) => a + b),
    count("duplicate"),
  );
  assert.equal(ref.sets.rejected.length, count("malformed"));
  // Out-of-order records really are below their partition's max and not late.
  const max = new Map<string, number>();
  for (const r of RECORDS) {
    if (r.eventTime === undefined) continue;
    const k = `${r.topic}/${r.partition}`;
    const m = max.get(k) ?? -Infinity;
    if (r.kind === "out_of_order") {
      assert.ok(r.eventTime < m && floorMinute(r.eventTime) + 60_000 > m - 600_000);
    }
    if (r.kind === "valid") assert.ok(r.eventTime >= m);
    max.set(k, Math.max(m, r.eventTime));
  }
});

Deno.test("duplicates repeat an earlier record's key and value within one hour", () => {
  const first = new Map<string, GeneratedRecord>();
  let dups = 0;
  for (const r of RECORDS) {
    if (r.kind === "malformed" || r.value === null) continue;
    const k = `${r.topic}/${r.value}`;
    const f = first.get(k);
    if (r.kind === "duplicate") {
      dups++;
      assert.ok(f, "duplicate without an original");
      assert.equal(r.key, f.key);
      assert.ok(r.kafkaTs > f.kafkaTs && r.kafkaTs - f.kafkaTs < HOUR);
    } else {
      assert.equal(f, undefined, "a non-duplicate repeats a value");
      first.set(k, r);
    }
  }
  assert.ok(dups > 100);
});

Deno.test("events reference the population coherently", () => {
  const pop = createPopulation({ seed: 9, users: 400, courses: 12, startMs: START, endMs: NOW });
  const videos = new Map(pop.courses.flatMap((c) => c.videos.map((v) => [v.id, v])));
  const assessments = new Map(pop.courses.flatMap((c) => c.assessments.map((a) => [a.id, a])));
  const users = new Map(pop.users.map((u) => [u.id, u]));
  let graded = 0;
  for (const r of RECORDS) {
    if (r.kind === "malformed" || r.value === null || r.topic === "CDC") continue;
    const e = JSON.parse(r.value);
    const u = users.get(e.user_id)!;
    assert.ok(u, `unknown user ${e.user_id}`);
    assert.ok(r.eventTime! >= u.createdAt, "event before the user signed up");
    if (u.deletedAt !== undefined) assert.ok(r.eventTime! < u.deletedAt, "event after deletion");
    if (r.topic === "VIDEO") {
      const v = videos.get(e.video_id);
      assert.ok(v && v.courseId === e.course_id, `video ${e.video_id} of ${e.course_id}`);
      if (e.action === "heartbeat") assert.ok(e.watched_sec > 0 && e.watched_sec <= 30);
    }
    if (r.topic === "ASSESSMENT") {
      const a = assessments.get(e.assessment_id);
      assert.ok(a && a.courseId === e.course_id);
      if (e.action === "graded") {
        graded++;
        assert.equal(e.max_score, a.maxScore);
        assert.ok(e.score >= 0 && e.score <= e.max_score);
      }
    }
    if (r.topic === "AUTH" && e.device) {
      assert.ok(u.devices.some((d) => d.type === e.device), "login from a device the user lacks");
    }
  }
  assert.ok(graded > 20);
});

Deno.test("CDC covers the users table: snapshot, creates, updates, deletes with tombstones, both wrappings", () => {
  const cdc = [...generate({ ...OPTIONS, deleteShare: 0.05 })].filter((r) => r.topic === "CDC");
  const ops = new Map<string, number>();
  let wrapped = 0, bare = 0;
  for (let i = 0; i < cdc.length; i++) {
    const r = cdc[i];
    if (r.kind === "malformed") continue;
    if (r.value === null) {
      assert.equal(r.kind, "tombstone");
      const prev = cdc.slice(0, i).reverse().find((x) =>
        x.key === r.key && x.kind !== "malformed"
      )!;
      assert.equal(JSON.parse(prev.value!).payload?.op ?? JSON.parse(prev.value!).op, "d");
      assert.equal(prev.partition, r.partition);
      continue;
    }
    const v = JSON.parse(r.value);
    if (v.payload) wrapped++;
    else bare++;
    const p = v.payload ?? v;
    ops.set(p.op, (ops.get(p.op) ?? 0) + 1);
    assert.equal(p.source.table, "users");
  }
  assert.ok(wrapped > 10 && bare > 10);
  for (const op of ["r", "c", "u", "d"]) assert.ok((ops.get(op) ?? 0) > 0, `no op ${op}`);
  assert.equal(cdc.filter((r) => r.kind === "tombstone").length, ops.get("d"));
});

Deno.test("past-day traffic stays inside its span and the future check uses now", () => {
  const end = START - 2 * 86_400_000;
  const recs = [
    ...generate({ seed: 3, users: 100, startMs: end - 86_400_000, endMs: end, eventsPerSecond: 1 }),
  ];
  assert.ok(recs.length > 50_000);
  for (const r of recs) {
    if (r.eventTime !== undefined && r.kind !== "tombstone") {
      assert.ok(r.eventTime >= end - 86_400_000 && r.eventTime < end);
    }
  }
  assert.throws(
    () => generate({ startMs: START, endMs: START + HOUR, now: START }).next(),
    RangeError,
  );
});

Deno.test("invalid options are refused with a message naming the option", () => {
  const bad: Array<[Partial<GeneratorOptions>, RegExp]> = [
    [{ endMs: START - 1 }, /endMs/],
    [{ partitions: 0 }, /partitions/],
    [{ malformedShare: 1.5 }, /malformedShare/],
    [{ eventsPerSecond: -1 }, /eventsPerSecond/],
    [{ users: 0 }, /users/],
  ];
  for (const [o, re] of bad) {
    assert.throws(() => generate({ startMs: START, endMs: START + HOUR, ...o }).next(), re);
  }
});
