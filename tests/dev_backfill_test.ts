/**
 * `deno task dev`'s past days against the real Kafka, on an isolated configuration: every archived
 * row sits at the Kafka offset of the very message it came from, no archive file reaches the
 * offsets the archiver will see, the produced records are then deleted from Kafka (so the stream
 * processors start after them), the real batch job publishes every hour of the window, and a second
 * run is skipped.
 */
import assert from "node:assert/strict";
import { decodeArchive, listArchiveFiles } from "../shared/archive.ts";
import { createKafka } from "../shared/kafka.ts";
import { floorHour, HOUR_MS, toIso } from "../shared/time.ts";
import { TOPIC_KEYS } from "../shared/config.ts";
import { createPopulation } from "../generator/population.ts";
import { readToEnd } from "../ops/read_to_end.ts";
import { readManifest } from "../batch/manifest.ts";
import {
  BACKFILL_MARKER,
  decideBackfill,
  readMarker,
  runBackfill,
  windowDates,
} from "../dev/backfill.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";

const REPO = new URL("../", import.meta.url).pathname;

async function archivedRows(dataDir: string) {
  const rows = [];
  for (const f of await listArchiveFiles(dataDir)) {
    rows.push(...decodeArchive(await Deno.readFile(f.path)));
  }
  return rows;
}

Deno.test({
  name: "past days land in the archive at the offsets Kafka gave them, then leave Kafka",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await ensureServers();
  const env = isolatedTestEnv();
  await env.setup();
  try {
    const cfg = env.cfg;
    const now = Date.now();
    const window = { startMs: floorHour(now) - 3 * HOUR_MS, endMs: floorHour(now) };
    const population = createPopulation({
      seed: 11,
      users: 300,
      courses: 6,
      startMs: window.startMs,
      endMs: window.endMs,
    });
    const kafka = createKafka(cfg, "dev-backfill-test", { logLevel: "nothing" });

    await t.step("every archived row is the message at its Kafka offset", async () => {
      assert.deepEqual(await decideBackfill(cfg, () => Promise.resolve(false)), { run: true });
      const progress: number[] = [];
      const marker = await runBackfill(cfg, {
        window,
        population,
        seed: 11,
        eventsPerSec: 2,
        kafka,
        keepInKafka: true,
        onProgress: (p) => progress.push(p.fraction),
      });
      assert.ok(marker.produced > 10_000, `produced ${marker.produced}`);
      assert.ok(marker.archived > 0.95 * marker.produced, JSON.stringify(marker));
      assert.ok(progress.length > 1 && progress.at(-1)! > 0.95, `progress ${progress.at(-1)}`);

      const rows = await archivedRows(cfg.dataDir);
      assert.equal(rows.length, marker.archived);
      const byCoord = new Map(rows.map((r) => [`${r.topic}/${r.partition}/${r.offset}`, r]));
      assert.equal(byCoord.size, rows.length, "a (topic, partition, offset) archived twice");
      let messages = 0;
      for (const key of TOPIC_KEYS) {
        for (const m of await readToEnd(kafka, cfg.topics[key])) {
          messages++;
          const row = byCoord.get(`${m.topic}/${m.partition}/${m.offset}`);
          const value = m.value === null ? null : new TextDecoder().decode(m.value);
          if (!row) continue; // not a valid event (e.g. a CDC tombstone is archived, checked below)
          assert.equal(row.payload, value, `payload at ${m.topic}[${m.partition}]@${m.offset}`);
          assert.equal(row.kafkaTs, m.timestamp);
          byCoord.delete(`${m.topic}/${m.partition}/${m.offset}`);
        }
      }
      assert.equal(messages, marker.produced);
      assert.equal(byCoord.size, 0, `rows without a Kafka message: ${[...byCoord.keys()][0]}`);
      for (const r of rows) {
        assert.ok(r.eventTime >= window.startMs && r.eventTime < window.endMs, toIso(r.eventTime));
      }
    });

    await t.step("a continuation appends the next hour at the following offsets", async () => {
      const before = await readMarker(cfg.dataDir);
      const rowsBefore = await archivedRows(cfg.dataDir);
      const maxBefore = new Map<string, number>();
      for (const r of rowsBefore) {
        const k = `${r.topic}/${r.partition}`;
        maxBefore.set(k, Math.max(maxBefore.get(k) ?? -1, r.offset));
      }
      const next = { startMs: window.endMs, endMs: window.endMs + HOUR_MS };
      const marker = await runBackfill(cfg, {
        window: next,
        population,
        seed: 13,
        eventsPerSec: 2,
        kafka,
        keepInKafka: true,
        previous: before!,
        now: () => next.endMs + 3 * HOUR_MS,
      });
      assert.equal(marker.startMs, window.startMs);
      assert.equal(marker.endMs, next.endMs);
      assert.equal(marker.populationEndMs, window.endMs);
      const added = (await archivedRows(cfg.dataDir)).filter((r) => r.eventTime >= next.startMs);
      assert.equal(marker.archived, before!.archived + added.length);
      assert.ok(added.length > 1000, `${added.length} rows added`);
      for (const r of added) {
        assert.ok(r.eventTime < next.endMs);
        assert.ok(r.offset > (maxBefore.get(`${r.topic}/${r.partition}`) ?? -1), r.eventId);
      }
      await assert.rejects(
        runBackfill(cfg, { window, population, seed: 14, eventsPerSec: 1, previous: marker }),
        /Cannot continue a backfill/,
      );
    });

    await t.step("a second run is skipped, also without the marker", async () => {
      const d = await decideBackfill(cfg, () => Promise.resolve(false));
      assert.equal(d.run, false);
      assert.equal((d as { reason: string }).reason, "already in the archive");
      const marker = await readMarker(cfg.dataDir);
      await Deno.remove(`${cfg.dataDir}/${BACKFILL_MARKER}`);
      const d2 = await decideBackfill(cfg, () => Promise.resolve(false));
      assert.equal(d2.run, false);
      assert.match((d2 as { reason: string }).reason, /already holds \d+ files/);
      await Deno.writeTextFile(`${cfg.dataDir}/${BACKFILL_MARKER}`, JSON.stringify(marker));
    });

    await t.step("a fresh archive with archiver checkpoints is not backfilled", async () => {
      const other = isolatedTestEnv();
      try {
        const d = await decideBackfill(other.cfg, () => Promise.resolve(true));
        assert.equal(d.run, false);
        assert.match((d as { reason: string }).reason, /checkpoints/);
      } finally {
        await Deno.remove(other.tmpDir, { recursive: true });
      }
    });

    await t.step(
      "a backfill that deletes from Kafka leaves files below the log start",
      async () => {
        const again = isolatedTestEnv();
        await again.setup();
        try {
          const marker = await runBackfill(again.cfg, {
            window,
            population,
            seed: 12,
            eventsPerSec: 1,
            kafka,
          });
          const admin = kafka.admin();
          await admin.connect();
          try {
            for (const key of TOPIC_KEYS) {
              const topic = again.cfg.topics[key];
              const offsets = await admin.fetchTopicOffsets(topic);
              for (const o of offsets) {
                // Retention-like: nothing left to consume, and the next offset continues after them.
                assert.equal(o.low, o.high, `${topic}[${o.partition}] still has records`);
                const files = await listArchiveFiles(again.cfg.dataDir, {
                  topics: [topic],
                  partition: o.partition,
                });
                // The archiver's takeover clean-up removes files whose first offset is >= its
                // resume offset, which is at least the log start: these must all lie below it.
                for (const f of files) assert.ok(f.last < Number(o.low), f.path);
              }
            }
          } finally {
            await admin.disconnect();
          }
          assert.ok(marker.archived > 0);
        } finally {
          await again.cleanup();
        }
      },
    );

    await t.step("the batch job publishes every hour of the window", async () => {
      const dates = windowDates(window);
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "batch/main.ts", "--from", dates[0], "--to", dates.at(-1)!],
        cwd: REPO,
        env: env.env,
        stdout: "piped",
        stderr: "piped",
      });
      const out = await child.output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, text);
      const manifest = await readManifest(cfg.outputsDir);
      for (let h = window.startMs; h < window.endMs; h += HOUR_MS) {
        // An hour is published once it ended 2 minutes ago; the last one may not have yet.
        if (h + HOUR_MS + 120_000 > Date.now()) continue;
        const key = toIso(h).slice(0, 13);
        assert.ok(manifest.hours[key], `hour ${key} not published: ${Object.keys(manifest.hours)}`);
      }
    });
  } finally {
    await env.cleanup();
  }
});
