import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import {
  batchThrough,
  emptyManifest,
  type Manifest,
  ManifestError,
  MERGED_VIEWS,
  readManifest,
  withDay,
  writeManifest,
} from "./manifest.ts";

const views = (runId: string, hours: number[], names: readonly string[] = MERGED_VIEWS) =>
  Object.fromEntries(names.map((v) => [v, {
    file: `${v}/date=2026-11-20/${runId}.parquet`,
    rows: 1,
    sha256: "00",
    runId,
    hours,
  }]));

Deno.test("batchThrough is the end of the contiguous published hours from the first one", () => {
  const m: Manifest = emptyManifest();
  assertEquals(batchThrough(m), null);
  for (const h of ["2026-11-20T05", "2026-11-20T06", "2026-11-20T08"]) {
    m.hours[h] = { runId: "r", publishedAt: "x" };
  }
  assertEquals(batchThrough(m), Date.UTC(2026, 10, 20, 7));
  m.hours["2026-11-20T07"] = { runId: "r", publishedAt: "x" };
  assertEquals(batchThrough(m), Date.UTC(2026, 10, 20, 9));
});

Deno.test("an hour is published only when every merged view covers it", () => {
  let m = withDay(emptyManifest(), "2026-11-20", {
    runId: "r1",
    publishedAt: "t1",
    views: views("r1", [1, 2, 3]),
  });
  assertEquals(Object.keys(m.hours), ["2026-11-20T01", "2026-11-20T02", "2026-11-20T03"]);
  // a run of one view for more hours does not publish them for the others
  m = withDay(m, "2026-11-20", {
    runId: "r2",
    publishedAt: "t2",
    views: views("r2", [1, 2, 3, 4], ["video_views"]),
  });
  assertEquals(m.days["2026-11-20"].hours, [1, 2, 3]);
  assertEquals(
    m.days["2026-11-20"].views.video_views.previousFile,
    "video_views/date=2026-11-20/r1.parquet",
  );
  assertEquals(m.days["2026-11-20"].views.sessions.runId, "r1");
  assertEquals(m.days["2026-11-20"].complete, false);
});

Deno.test("the manifest round-trips and a malformed one is an error, a missing one empty", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(await readManifest(dir), emptyManifest());
    const m = withDay(emptyManifest(), "2026-11-20", {
      runId: "r",
      publishedAt: "t",
      views: views("r", [0]),
    });
    await writeManifest(dir, m);
    assertEquals(await readManifest(dir), m);
    await Deno.writeTextFile(`${dir}/_manifest.json`, "{");
    await rejects(readManifest(dir), ManifestError);
    await Deno.writeTextFile(`${dir}/_manifest.json`, `{"version": 1}`);
    await rejects(readManifest(dir), /not a version 3 manifest/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
