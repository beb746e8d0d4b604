import assert from "node:assert/strict";
import { HOUR_MS } from "../shared/time.ts";
import { DAY0 } from "./_testing.ts";
import { earliestArchivedHour, manifestSource } from "./published.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function touch(path: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeFile(path, new Uint8Array([1]));
}

Deno.test("the earliest archived hour is found across topics, ignoring empty and temp entries", () =>
  withDir(async (dir) => {
    assert.equal(await earliestArchivedHour(dir), null);
    const m = `${dir}/master`;
    await touch(`${m}/topic=video_topic/date=2026-11-21/hour=03/p0-0-9.parquet`);
    await touch(`${m}/topic=auth_topic/date=2026-11-20/hour=7/p1-0-9.parquet`);
    await touch(`${m}/topic=auth_topic/date=2026-11-20/hour=10/p1-10-19.parquet`);
    await Deno.mkdir(`${m}/topic=auth_topic/date=2026-11-19/hour=22`, { recursive: true });
    await touch(`${m}/topic=course_topic/date=2026-11-20/hour=05/.tmp-p0-0-1.parquet.1.ab`);
    assert.equal(await earliestArchivedHour(dir), DAY0 + 7 * HOUR_MS);
    await touch(`${m}/topic=course_topic/date=2026-11-20/hour=06/p3-0-1.parquet`);
    assert.equal(await earliestArchivedHour(dir), DAY0 + 6 * HOUR_MS);
  }));

Deno.test("the manifest source reads published hours, day views and batchThrough", () =>
  withDir(async (dir) => {
    const empty = await manifestSource(dir)();
    assert.equal(empty.batchThrough, null);
    assert.equal(empty.published.hours.size, 0);
    await Deno.writeTextFile(
      `${dir}/_manifest.json`,
      JSON.stringify({
        version: 3,
        updatedAt: "2026-11-21T00:00:00.000Z",
        hours: {
          "2026-11-20T00": { runId: "r", publishedAt: "x" },
          "2026-11-20T01": { runId: "r", publishedAt: "x" },
          "2026-11-20T03": { runId: "r", publishedAt: "x" },
        },
        days: {
          "2026-11-20": {
            runId: "r",
            publishedAt: "x",
            hours: [0, 1, 3],
            complete: false,
            views: { daily_summary: { file: "f", rows: 1, sha256: "s", runId: "r", hours: [] } },
          },
        },
      }),
    );
    const info = await manifestSource(dir)();
    assert.equal(info.batchThrough, DAY0 + 2 * HOUR_MS);
    assert.deepEqual([...info.published.hours].sort(), [
      "2026-11-20T00",
      "2026-11-20T01",
      "2026-11-20T03",
    ]);
    assert.deepEqual([...info.published.days.get("2026-11-20")!], ["daily_summary"]);
  }));
