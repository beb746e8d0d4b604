import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { resolveConfig, type TopicKey } from "../../../shared/config.ts";
import { parseEvent } from "../../../shared/events.ts";
import type { Checkpoint, PartitionTask, TaskContext } from "../../runtime/task.ts";
import { createDimFeed } from "../cdc/dim_feed.ts";
import { decodeRows, listOffsetFiles } from "../cdc/offset_files.ts";
import { MemoryUserDimStore } from "../cdc/user_dim.ts";
import { ENRICHED_COLUMNS, HEADERS } from "./enriched.ts";
import { dataEnrichmentJob, type EnrichmentJobDeps, enrichmentSettings } from "./enrichment_job.ts";
import { MemorySink } from "./sink.ts";

const T = Date.UTC(2026, 10, 20, 8, 0, 0);
const MIN = 60_000;
const cfg0 = resolveConfig({});

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

let ids = 0;
function body(topic: TopicKey, user: string, t: number, extra: Record<string, unknown> = {}) {
  const base = { event_id: `e${ids++}`, user_id: user, timestamp: new Date(t).toISOString() };
  const fields: Record<TopicKey, Record<string, unknown>> = {
    AUTH: { action: "login" },
    VIDEO: { video_id: "v1", course_id: "c1", action: "play" },
    PROFILE: { changes: {} },
    ASSESSMENT: { assessment_id: "a", course_id: "c1", action: "started" },
    COURSE: { course_id: "c1", action: "progress" },
    NOTIFICATION: { notification_id: "n", channel: "email", action: "sent" },
    APP_EVENTS: { event_type: "click", app_type: "web", session_id: "s" },
    CLICKSTREAM: { session_id: "s", page_url: "/" },
    CDC: {},
  };
  return JSON.stringify({ ...base, ...fields[topic], ...extra });
}

/** Feeds raw values of one topic partition to a task, in offset order. */
class Feeder {
  next: number;
  constructor(readonly task: PartitionTask, readonly topic: TopicKey, from = 0) {
    this.next = from;
  }
  feed(raws: string[], kafkaTs = T): void {
    const resume = this.task.resumeFrom;
    for (const raw of raws) {
      const r = parseEvent(this.topic, raw, { now: T + 86_400_000 });
      if (!r.ok) throw new Error(r.err.detail);
      const offset = this.next++;
      this.task.onEvent(
        r.ok,
        { topic: this.topic, partition: 0, offset, kafkaTs, raw, key: null },
        resume !== undefined && offset < resume.nextOffset,
        { duplicate: false, late: false, maxEventTimeBefore: -Infinity, watermark: -Infinity },
      );
    }
  }
  flush(): Promise<Checkpoint> {
    return this.task.flush(this.next);
  }
}

const ctx = (topic: TopicKey): TaskContext => ({
  topicName: cfg0.topics[topic],
  gate: { replayPoint: () => undefined, maxEventTime: -Infinity, watermark: -Infinity },
});

function setup(dir: string, over: Partial<EnrichmentJobDeps> = {}) {
  const dims = new MemoryUserDimStore();
  const sink = new MemorySink();
  const feed = createDimFeed();
  let now = 0;
  const deps: EnrichmentJobDeps = {
    dims,
    sink,
    dimFeed: feed,
    commit: { maxEvents: 1, intervalMs: 0 },
    roll: { maxRows: 1_000_000, maxAgeMs: 0 },
    dimCache: { maxAgeMs: 1e12 }, // only invalidations refresh: proves the feed works
    fsync: false,
    now: () => now,
    ...over,
  };
  const job = dataEnrichmentJob({ outputsDir: dir, topics: cfg0.topics }, deps);
  const open = async (topic: TopicKey, resume?: Checkpoint) =>
    new Feeder(await job.createTask(topic, 0, resume, ctx(topic)), topic, resume?.replayOffset);
  return { job, dims, sink, feed, open, tick: (ms: number) => (now += ms) };
}

const values = (sink: MemorySink) => sink.messages.map((m) => JSON.parse(m.value));

Deno.test("an unknown user's event is enriched with empty fields and the unknown_user flag", async () => {
  await withDir(async (dir) => {
    const { sink, open } = setup(dir);
    const video = await open("VIDEO");
    video.feed([body("VIDEO", "ghost", T)]);
    await video.flush();
    const [v] = values(sink);
    assertEquals(v.user, { known: false, deleted: false, profile: {}, source_position: null });
    assertEquals(v.flags, ["unknown_user"]);
    assertEquals(v.event.video_id, "v1");
    assertEquals(sink.messages[0].key, "ghost");
    assertEquals(sink.messages[0].headers[HEADERS.topic], "video_topic");
    assertEquals(sink.messages[0].headers[HEADERS.offset], "0");
  });
});

Deno.test("a user change is visible to the user's later events, from CDC and from profile_topic", async () => {
  await withDir(async (dir) => {
    const { sink, dims, feed, open } = setup(dir);
    await dims.writeCdc([{
      entityId: "u1",
      action: "upsert",
      fields: { id: "u1", display_name: "Ann", plan: "free" },
      op: "r",
      position: "lsn:10",
      sourceTsMs: T - MIN,
      writeTs: (T - MIN) * 1000,
    }]);
    const video = await open("VIDEO");
    const profile = await open("PROFILE");
    video.feed([body("VIDEO", "u1", T)]);
    await video.flush();
    // profile_topic: the change applies to every later event of the user at once
    profile.feed([body("PROFILE", "u1", T + 1000, { changes: { display_name: "Anna" } })]);
    await profile.flush();
    video.feed([body("VIDEO", "u1", T + 2000)]);
    await video.flush();
    // CDC (another job) writes a newer row state and tells the cache
    await dims.writeCdc([{
      entityId: "u1",
      action: "upsert",
      fields: { id: "u1", display_name: "Anna", plan: "premium" },
      op: "u",
      position: "lsn:20",
      sourceTsMs: T + 1500,
      writeTs: (T + 1500) * 1000,
    }]);
    feed.publish(["u1"]);
    video.feed([body("VIDEO", "u1", T + 3000)]);
    await video.flush();
    const v = values(sink).filter((x) => x.source.topic === "video_topic");
    assertEquals(v.map((x) => [x.user.profile.display_name, x.user.profile.plan]), [
      ["Ann", "free"],
      ["Anna", "free"],
      ["Anna", "premium"],
    ]);
    assertEquals(v[2].user.source_position, "lsn:20");
    assertEquals(v.map((x) => x.flags), [[], [], []]);
    // the profile change itself is stored in users_dim
    assertEquals((await dims.get(["u1"])).get("u1")!.fields.display_name, "Anna");
  });
});

Deno.test("device, country and risk flags follow the user's auth events across topics", async () => {
  await withDir(async (dir) => {
    const { sink, dims, open } = setup(dir);
    const auth = await open("AUTH");
    const app = await open("APP_EVENTS");
    const fails = [0, 1, 2, 3, 4].map((i) =>
      body("AUTH", "u2", T + i * MIN, { action: "login_failed", device: "web", country: "DE" })
    );
    auth.feed(fails);
    await auth.flush();
    auth.feed([
      body("AUTH", "u2", T + 5 * MIN, { action: "login", device: "mobile", country: "BR" }),
    ]);
    await auth.flush();
    app.feed([body("APP_EVENTS", "u2", T + 6 * MIN)]);
    await app.flush();
    const v = values(sink);
    assertEquals(v[3].risk_flags, []);
    assertEquals(v[4].risk_flags, ["failed_login_burst"]);
    assertEquals(v[5].risk_flags, ["failed_login_burst", "impossible_travel"]);
    assertEquals([v[6].device, v[6].country, v[6].source.topic], [
      "mobile",
      "BR",
      "topic_app_events",
    ]);
    assertEquals(v[6].risk_flags, ["failed_login_burst", "impossible_travel"]);
    const d = (await dims.get(["u2"])).get("u2")!;
    assertEquals([d.lastDevice, d.lastCountry, d.lastAuthAt], ["mobile", "BR", T + 5 * MIN]);
    assertEquals(d.riskFlags, ["failed_login_burst", "impossible_travel"]);
    assertEquals(d.riskAt, T + 6 * MIN);
  });
});

Deno.test("a re-sent event is enriched once per copy, flagged duplicate, and counted once", async () => {
  await withDir(async (dir) => {
    const { sink, open } = setup(dir, { risk: { maxEventsPerMinute: 1 } });
    const video = await open("VIDEO");
    const raw = body("VIDEO", "u3", T);
    video.feed([raw, raw]);
    await video.flush();
    const v = values(sink);
    assertEquals(v.map((x) => x.flags), [["unknown_user"], ["unknown_user", "duplicate"]]);
    assertEquals(v[1].risk_flags, [], "the copy does not count as a second event");
    assertEquals(v[0].engagement_score, v[1].engagement_score);
  });
});

Deno.test("a crash after a commit never produces the committed offsets again; Parquet is replaced", async () => {
  await withDir(async (dir) => {
    const s = setup(dir, { roll: { maxRows: 4, maxAgeMs: 1e9 } });
    const raws = Array.from({ length: 10 }, (_, i) => body("VIDEO", `u${i % 3}`, T + i * 1000));
    const a = await s.open("VIDEO");
    a.feed(raws.slice(0, 4));
    const stored = await a.flush(); // 4 rows: a file is written and the checkpoint moves
    assertEquals(stored.nextOffset, 4);
    a.feed(raws.slice(4, 7));
    const lost = await a.flush(); // committed to the sink; this checkpoint is never stored
    assertEquals(lost.nextOffset, 4, "rows 4..6 are not in a file yet");
    assertEquals(s.sink.committed.get("video_topic/0"), 7);
    // The new owner: resumes from the stored checkpoint (replaying for state) and the sink's offset.
    const b = await s.open("VIDEO", stored);
    assertEquals(b.next, stored.replayOffset);
    b.feed(raws.slice(stored.replayOffset, 10));
    await b.flush();
    s.tick(1);
    await rejects(
      a.flush().then(() => a.task.flush(20)).then(async () => {
        a.feed([body("VIDEO", "u0", T)]);
        await a.flush();
      }),
      /fenced/,
      "the old owner's writer is fenced",
    );
    const offsets = s.sink.messages.map((m) => Number(m.headers[HEADERS.offset]));
    assertEquals(offsets, [...Array(10).keys()], "each source offset exactly once");
    const files = await listOffsetFiles(`${dir}/enriched_events/topic=video_topic`);
    const rows = (await Promise.all(
      files.map(async (f) => decodeRows(ENRICHED_COLUMNS, await Deno.readFile(f.path))),
    )).flat().map((r) => r.offset).sort((x, y) => x - y);
    assertEquals(rows, [...Array(10).keys()], "each offset in exactly one file");
  });
});

Deno.test("a failed commit is retried at the next flush and delivers each message once", async () => {
  await withDir(async (dir) => {
    const { sink, open } = setup(dir);
    const video = await open("VIDEO");
    video.feed([body("VIDEO", "u1", T), body("VIDEO", "u1", T + 1)]);
    sink.failNext = new Error("broker unavailable");
    await rejects(video.flush(), /broker unavailable/);
    const cp = await video.flush();
    assertEquals(sink.messages.map((m) => m.headers[HEADERS.offset]), ["0", "1"]);
    assertEquals(cp.nextOffset, 2);
  });
});

Deno.test("the checkpoint's replay offset covers the 2-hour state horizon", async () => {
  await withDir(async (dir) => {
    const { open } = setup(dir);
    const video = await open("VIDEO");
    video.feed([body("VIDEO", "u1", T)], T);
    video.feed([body("VIDEO", "u1", T + 60 * MIN)], T + 60 * MIN);
    video.feed([body("VIDEO", "u1", T + 130 * MIN)], T + 130 * MIN);
    const cp = await video.flush();
    assertEquals([cp.nextOffset, cp.replayOffset], [3, 1]);
    assertEquals(cp.replayMaxEventTime, T);
    assert(cp.watermark === T + 130 * MIN - 600_000);
  });
});

Deno.test("settings come from the resolved TOPIC_ENRICHED and ENRICH_* variables", () => {
  assertEquals(enrichmentSettings(resolveConfig({})), {
    outputTopic: "enriched_events",
    risk: {
      maxEventsPerMinute: 100,
      failedLogins: 5,
      failedWindowMs: 600_000,
      travelWindowMs: 3_600_000,
    },
  });
  const s = enrichmentSettings(resolveConfig({
    TOPIC_ENRICHED: "t_x_enriched_events",
    ENRICH_MAX_EVENTS_PER_MINUTE: "42",
  }));
  assertEquals([s.outputTopic, s.risk.maxEventsPerMinute], ["t_x_enriched_events", 42]);
});

Deno.test("prepared flushes are written in the order they were prepared, each once", async () => {
  await withDir(async (dir) => {
    const { sink, open } = setup(dir);
    const video = await open("VIDEO");
    video.feed([body("VIDEO", "u1", T)]);
    const a = video.task.prepareFlush!(video.next);
    video.feed([body("VIDEO", "u1", T + 1), body("VIDEO", "u1", T + 2)]);
    const b = video.task.prepareFlush!(video.next);
    assertEquals([a.checkpoint.nextOffset, b.checkpoint.nextOffset], [1, 3]);
    await b.write(); // completes a's batch first
    await a.write(); // nothing left to do
    assertEquals(sink.messages.map((m) => m.headers[HEADERS.offset]), ["0", "1", "2"]);
    assertEquals(sink.committed.get("video_topic/0"), 3);
  });
});
