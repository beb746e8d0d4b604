import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { CLICKSTREAM_SESSIONS } from "../../store/tables.ts";
import { ev, MIN, runJob, T0 } from "../_testing.ts";
import { clickstreamAnalysisJob } from "./clickstream_analysis.ts";
import { addClick, emptySession, mergeSessions, PATH_LIMIT } from "./sessions.ts";

const click = (t: number, page: string) => ev(t, { session_id: "s1", page_url: page });

Deno.test("a click bridging two sessions merges them and deletes the later session's row", async () => {
  const store = await runJob(clickstreamAnalysisJob, "CLICKSTREAM", [
    click(T0, "/a"),
    click(T0 + 50 * MIN, "/b"), // new session (gap > 30 min)
    click(T0 + 25 * MIN, "/c"), // out of order, within lateness: bridges both
  ], { allowedLatenessMs: 60 * MIN });
  const rows = store.objects(CLICKSTREAM_SESSIONS);
  assertEquals(rows.length, 1);
  const r = rows[0];
  assertEquals(
    [r.session_start, r.session_end, r.duration_sec, r.clicks, r.unique_pages, r.path, r.closed],
    [T0, T0 + 50 * MIN, 3000, 3, 3, ["/a", "/c", "/b"], false],
  );
});

Deno.test("a session is written closed once the watermark passes its end plus the gap", async () => {
  const store = await runJob(clickstreamAnalysisJob, "CLICKSTREAM", [
    click(T0, "/a"),
    click(T0 + 10 * MIN, "/a"),
    // Another user far later moves the partition's watermark (lateness 10 min) past 10+30+1 min.
    { ...ev(T0 + 52 * MIN, { session_id: "s9", page_url: "/x" }), user_id: "u2" },
  ]);
  const s1 = store.objects(CLICKSTREAM_SESSIONS).find((r) => r.user_id === "u1")!;
  assertEquals([s1.clicks, s1.unique_pages, s1.closed], [2, 1, true]);
  const s2 = store.objects(CLICKSTREAM_SESSIONS).find((r) => r.user_id === "u2")!;
  assertEquals(s2.closed, false);
});

Deno.test("the path keeps the first 50 clicks by event time, then offset", () => {
  const s = emptySession("u", "s");
  for (let i = 60; i > 0; i--) addClick(s, { t: i, offset: 100 - i, page: `/p${i}` });
  addClick(s, { t: 1, offset: 500, page: "/tie" }); // same time as /p1, later offset
  assertEquals(s.path.length, PATH_LIMIT);
  assertEquals(s.path.slice(0, 3).map((p) => p.page), ["/p1", "/tie", "/p2"]);
  const other = emptySession("u", "s");
  addClick(other, { t: 0, offset: 1, page: "/first" });
  mergeSessions(s, other);
  assertEquals([s.path[0].page, s.path.length, s.clicks], ["/first", PATH_LIMIT, 62]);
});
