/**
 * Publication of batch views: idempotent re-runs, late events picked up by a re-run, a truncated
 * archive file, an empty day, hour runs, SIGKILL at every publish stage, and two runs of the same
 * day at once. Uses `deno task batch` (batch/main.ts) as a child process where a process must die.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { type ArchiveRow, archiveRow, listArchiveFiles, writeArchive } from "../shared/archive.ts";
import { resolveConfig, type ResolvedConfig, type TopicKey } from "../shared/config.ts";
import { parseEvent } from "../shared/events.ts";
import { DAY_MS, HOUR_MS, parseIsoDate } from "../shared/time.ts";
import { LockBusyError } from "../batch/lock.ts";
import {
  batchThrough,
  type Manifest,
  readManifest,
  readView,
  toRows as plainRows,
} from "../batch/outputs.ts";
import { sha256File, STAGING_DIR } from "../batch/publish.ts";
import { runBatch } from "../batch/run.ts";
import { DuckDBInstance } from "@duckdb/node-api";
import { ArchiveReadError } from "../batch/source.ts";

const DATE = "2025-06-02";
const DAY = parseIsoDate(DATE);
const NOW = DAY + 5 * DAY_MS;
const OPTS = { now: () => NOW, settleMs: 0 };

let offsetSeq = 0;

function rowsFor(
  cfg: ResolvedConfig,
  n: number,
  opts: { prefix: string; hour?: number; users?: number },
): ArchiveRow[] {
  const out: ArchiveRow[] = [];
  const add = (topic: TopicKey, body: Record<string, unknown>, t: number) => {
    const raw = JSON.stringify({ ...body, timestamp: t });
    const r = parseEvent(topic, raw, { now: NOW });
    if (!r.ok) throw new Error(r.err.detail);
    const offset = offsetSeq++;
    out.push(archiveRow(r.ok, {
      topic: cfg.topics[topic],
      partition: 0,
      offset,
      kafkaTs: t + 10,
      raw,
      key: String(body.user_id),
    }));
  };
  for (let i = 0; i < n; i++) {
    const t = DAY + (opts.hour ?? i % 24) * HOUR_MS + (i * 7919) % HOUR_MS;
    const user = `u${i % (opts.users ?? 7)}`;
    add("APP_EVENTS", {
      event_id: `${opts.prefix}-a${i}`,
      user_id: user,
      event_type: ["click", "page_view", "search"][i % 3],
      app_type: "web",
      session_id: `s${i % 5}`,
    }, t);
    add("CLICKSTREAM", {
      event_id: `${opts.prefix}-c${i}`,
      user_id: user,
      session_id: `cs${i % 3}`,
      page_url: `/p${i % 4}`,
    }, t);
    add("VIDEO", {
      event_id: `${opts.prefix}-v${i}`,
      user_id: user,
      video_id: `v${i % 2}`,
      course_id: "c1",
      action: "heartbeat",
      watched_sec: 30,
    }, t);
  }
  return out;
}

async function withOutputs(fn: (cfg: ResolvedConfig, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "batch-publish-" });
  try {
    await fn(resolveConfig({ DATA_DIR: `${dir}/data`, OUTPUTS_DIR: `${dir}/outputs` }), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function totalAppEvents(cfg: ResolvedConfig, m: Manifest): Promise<number> {
  return plainRows(await readView(cfg.outputsDir, m, "app_event_counts", DATE))
    .reduce((a, r) => a + (r.event_count as number), 0);
}

/** Every file the manifest references exists and has the recorded checksum and row count. */
async function assertConsistent(cfg: ResolvedConfig, m: Manifest): Promise<void> {
  for (const [date, day] of Object.entries(m.days)) {
    for (const [view, e] of Object.entries(day.views)) {
      const path = `${cfg.outputsDir}/${e.file}`;
      assertEquals([view, await sha256File(path)], [view, e.sha256]);
      assertEquals([view, (await readView(cfg.outputsDir, m, view, date))?.numRows], [
        view,
        e.rows,
      ]);
    }
  }
}

async function viewFiles(cfg: ResolvedConfig, view: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${cfg.outputsDir}/${view}/date=${DATE}`)) out.push(e.name);
  return out.sort();
}

Deno.test("re-running a day publishes identical content and keeps only the previous version", async () => {
  await withOutputs(async (cfg) => {
    await writeArchive(cfg.dataDir, rowsFor(cfg, 200, { prefix: "a" }));
    const [r1] = await runBatch(cfg, { dates: [DATE], lookbackDays: 3 }, OPTS);
    const m1 = await readManifest(cfg.outputsDir);
    const [r2] = await runBatch(cfg, { dates: [DATE], lookbackDays: 3 }, OPTS);
    const m2 = await readManifest(cfg.outputsDir);
    assert(r1.runId !== r2.runId);
    assertEquals(r2.views, r1.views); // same rows and sha256 for every view
    for (const [v, e] of Object.entries(m2.days[DATE].views)) {
      assertEquals(e.previousFile, m1.days[DATE].views[v].file);
    }
    assertEquals(Object.keys(m2.hours).length, 24);
    assertEquals(batchThrough(m2), DAY + DAY_MS);
    await runBatch(cfg, { dates: [DATE], lookbackDays: 3 }, OPTS);
    const m3 = await readManifest(cfg.outputsDir);
    assertEquals(
      await viewFiles(cfg, "video_views"),
      [
        `${r2.runId}.parquet`,
        m3.days[DATE].views.video_views.file.split("/").pop()!,
      ].sort(),
    );
    await assertConsistent(cfg, m3);
  });
});

Deno.test("late events archived after publication are counted when the day is re-run", async () => {
  await withOutputs(async (cfg) => {
    const original = rowsFor(cfg, 100, { prefix: "a" });
    await writeArchive(cfg.dataDir, original);
    await runBatch(cfg, { dates: [DATE] }, OPTS);
    assertEquals(await totalAppEvents(cfg, await readManifest(cfg.outputsDir)), 100);
    // a second archived copy of the same offsets (in other files) counts once too
    const copies = await writeArchive(cfg.dataDir, original.filter((_, i) => i % 10 === 0));
    assert(copies.length > 0);
    const late = rowsFor(cfg, 30, { prefix: "late", hour: 3 });
    await writeArchive(cfg.dataDir, late);
    // and re-sent copies of events already counted: still once
    await writeArchive(cfg.dataDir, rowsFor(cfg, 10, { prefix: "a" }));
    await runBatch(cfg, { dates: [DATE] }, OPTS);
    const m = await readManifest(cfg.outputsDir);
    assertEquals(await totalAppEvents(cfg, m), 130);
    const [summary] = plainRows(await readView(cfg.outputsDir, m, "daily_summary", DATE));
    assertEquals(summary.total_events, 130 * 3);
  });
});

Deno.test("a truncated archive file fails the day, names the file and publishes nothing", async () => {
  await withOutputs(async (cfg) => {
    await writeArchive(cfg.dataDir, rowsFor(cfg, 50, { prefix: "a" }));
    await runBatch(cfg, { dates: [DATE] }, OPTS);
    const before = await readManifest(cfg.outputsDir);
    const [bad] = await writeArchive(cfg.dataDir, rowsFor(cfg, 20, { prefix: "b", hour: 7 }));
    const bytes = await Deno.readFile(bad);
    await Deno.writeFile(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await rejects(
      runBatch(cfg, { dates: [DATE] }, OPTS),
      (e: Error) => e instanceof ArchiveReadError && e.message.includes(bad),
    );
    assertEquals(await readManifest(cfg.outputsDir), before);
    await assertConsistent(cfg, before);
    // The command line says the same and exits 1.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "batch/main.ts", "--date", DATE],
      env: { DATA_DIR: cfg.dataDir, OUTPUTS_DIR: cfg.outputsDir },
      cwd: new URL("..", import.meta.url).pathname,
    }).output();
    assertEquals(out.code, 1);
    assert(new TextDecoder().decode(out.stdout).includes(bad));
    // A corrupted middle (magic bytes intact) is caught by DuckDB, still naming the file.
    const mid = bytes.slice();
    mid.fill(0x55, 4, mid.length - 8 - new DataView(mid.buffer).getUint32(mid.length - 8, true));
    await Deno.writeFile(bad, mid);
    await rejects(
      runBatch(cfg, { dates: [DATE] }, OPTS),
      (e: Error) => e instanceof ArchiveReadError && e.message.includes(bad),
    );
    assertEquals(await readManifest(cfg.outputsDir), before);
  });
});

Deno.test("a day without data publishes its hours with empty views", async () => {
  await withOutputs(async (cfg) => {
    const [r] = await runBatch(cfg, { dates: [DATE] }, OPTS);
    assertEquals(r.hours.length, 24);
    const m = await readManifest(cfg.outputsDir);
    assertEquals(Object.keys(m.hours).length, 24);
    for (const [view, e] of Object.entries(m.days[DATE].views)) {
      assertEquals([view, e.rows], [view, view === "daily_summary" ? 1 : 0]);
    }
    const [s] = plainRows(await readView(cfg.outputsDir, m, "daily_summary", DATE));
    assertEquals([s.total_events, s.sessions, s.avg_session_duration_sec], [0, 0, null]);
    await assertConsistent(cfg, m);
  });
});

Deno.test("an hour run publishes that hour; daily views wait for the whole day", async () => {
  await withOutputs(async (cfg) => {
    await writeArchive(cfg.dataDir, rowsFor(cfg, 96, { prefix: "a" }));
    await runBatch(cfg, { dates: [DATE], hours: { [DATE]: [5] } }, OPTS);
    let m = await readManifest(cfg.outputsDir);
    assertEquals(Object.keys(m.hours), [`${DATE}T05`]);
    assertEquals(m.days[DATE].views.daily_summary, undefined);
    assertEquals(await totalAppEvents(cfg, m), 4);
    // Only daily jobs for an incomplete day: nothing to publish.
    const [daily] = await runBatch(cfg, {
      dates: [DATE],
      hours: { [DATE]: [7] },
      jobs: ["daily_summary"],
    }, OPTS);
    assertEquals([daily.hours, daily.skipped], [[], ["daily_summary"]]);
    assertEquals(await readManifest(cfg.outputsDir), m);
    await runBatch(cfg, { dates: [DATE], hours: { [DATE]: [6] } }, OPTS);
    m = await readManifest(cfg.outputsDir);
    assertEquals(Object.keys(m.hours), [`${DATE}T05`, `${DATE}T06`]);
    assertEquals(batchThrough(m), DAY + 7 * HOUR_MS);
    assertEquals(await totalAppEvents(cfg, m), 8);
    // Hours not yet over are not published.
    await runBatch(cfg, { dates: [DATE] }, { now: () => DAY + 10 * HOUR_MS + 1, settleMs: 0 });
    m = await readManifest(cfg.outputsDir);
    assertEquals(m.days[DATE].hours, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await runBatch(cfg, { dates: [DATE] }, OPTS);
    m = await readManifest(cfg.outputsDir);
    assertEquals(m.days[DATE].complete, true);
    assert(m.days[DATE].views.daily_summary.rows === 1);
  });
});

function spawnBatch(cfg: ResolvedConfig, env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "batch/main.ts", "--date", DATE],
    env: { DATA_DIR: cfg.dataDir, OUTPUTS_DIR: cfg.outputsDir, ...env },
    cwd: new URL("..", import.meta.url).pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
}

/** Reads the child's log lines until one contains `text`. */
async function until(proc: Deno.ChildProcess, text: string): Promise<void> {
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child ended before "${text}": ${seen}`);
    seen += value;
  }
  reader.releaseLock();
  proc.stdout.cancel().catch(() => {});
}

for (const stage of ["staged", "moved-one", "moved-all", "manifest-written"]) {
  Deno.test(`SIGKILL at publish stage "${stage}" leaves a complete, readable version`, async () => {
    await withOutputs(async (cfg) => {
      await writeArchive(cfg.dataDir, rowsFor(cfg, 60, { prefix: "a" }));
      await runBatch(cfg, { dates: [DATE] }, OPTS);
      const before = await readManifest(cfg.outputsDir);
      await writeArchive(cfg.dataDir, rowsFor(cfg, 12, { prefix: "late", hour: 9 }));
      const proc = spawnBatch(cfg, { BATCH_PAUSE_AT: stage });
      await until(proc, "paused for a crash test");
      proc.kill("SIGKILL");
      await proc.status;
      const after = await readManifest(cfg.outputsDir);
      await assertConsistent(cfg, after);
      if (stage === "manifest-written") {
        assertEquals(await totalAppEvents(cfg, after), 72);
      } else {
        assertEquals(after, before);
        assertEquals(await totalAppEvents(cfg, after), 60);
      }
      // The next run of the day cleans up and publishes the new version.
      const [r] = await runBatch(cfg, { dates: [DATE] }, OPTS);
      const m = await readManifest(cfg.outputsDir);
      assertEquals(await totalAppEvents(cfg, m), 72);
      await assertConsistent(cfg, m);
      const e = m.days[DATE].views.video_views;
      assertEquals(
        await viewFiles(cfg, "video_views"),
        [`${r.runId}.parquet`, e.previousFile!.split("/").pop()!].sort(),
      );
      assertEquals(
        (await Array.fromAsync(Deno.readDir(`${cfg.outputsDir}/${STAGING_DIR}`))).length,
        0,
      );
    });
  });
}

Deno.test("two runs of the same day: the second fails naming the holder, or waits for it", async () => {
  await withOutputs(async (cfg) => {
    await writeArchive(cfg.dataDir, rowsFor(cfg, 40, { prefix: "a" }));
    const holder = spawnBatch(cfg, { BATCH_PAUSE_AT: "staged" });
    await until(holder, "paused for a crash test");
    await rejects(
      runBatch(cfg, { dates: [DATE] }, OPTS),
      (e: Error) => e instanceof LockBusyError && e.message.includes(`pid ${holder.pid}`),
    );
    // A waiting run gets the day once the holder is gone (here: killed, so its lock is stale).
    const waiting = runBatch(cfg, { dates: [DATE] }, { ...OPTS, lockWaitMs: 600_000 });
    holder.kill("SIGKILL");
    await holder.status;
    const [r] = await waiting;
    const m = await readManifest(cfg.outputsDir);
    assertEquals(m.days[DATE].runId, r.runId);
    assertEquals(await totalAppEvents(cfg, m), 40);
    await assertConsistent(cfg, m);
    assertEquals((await listArchiveFiles(cfg.dataDir)).length > 0, true);
  });
});

Deno.test("view files are sorted by entity key then hour, in row groups of at most 8192 rows", async () => {
  await withOutputs(async (cfg) => {
    await writeArchive(cfg.dataDir, rowsFor(cfg, 20_000, { prefix: "a", users: 9_000 }));
    await runBatch(cfg, { dates: [DATE], jobs: ["views"] }, OPTS);
    const m = await readManifest(cfg.outputsDir);
    const path = `${cfg.outputsDir}/${m.days[DATE].views.user_activity.file}`;
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    try {
      const groups = (await conn.runAndReadAll(
        `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${path}')`,
      )).getRows().map(([, n]) => Number(n));
      assert(groups.length >= 2, `row groups: ${groups}`);
      assert(groups.every((n) => n <= 8192), `row groups: ${groups}`);
      const rows = plainRows(await readView(cfg.outputsDir, m, "user_activity", DATE));
      assertEquals(groups.reduce((a, b) => a + b, 0), rows.length);
      for (let i = 1; i < rows.length; i++) {
        const [a, b] = [rows[i - 1], rows[i]];
        assert(
          (a.user_id as string) < (b.user_id as string) ||
            (a.user_id === b.user_id && (a.hour as number) < (b.hour as number)),
          `row ${i} out of order`,
        );
      }
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });
});
