import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { parseBatchArgs, UsageError } from "./cli.ts";

Deno.test("--date and its alias give one day", () => {
  assertEquals(parseBatchArgs(["--date", "2026-11-20"]).request, { dates: ["2026-11-20"] });
  assertEquals(parseBatchArgs(["--target-date", "2026-11-20"]).request.dates, ["2026-11-20"]);
});

Deno.test("--hour and --target-hour give one hour of a day", () => {
  const want = { dates: ["2026-11-20"], hours: { "2026-11-20": [5] } };
  assertEquals(parseBatchArgs(["--hour", "2026-11-20 05:00"]).request, want);
  assertEquals(parseBatchArgs(["--target-hour", "2026-11-20 05:00:00"]).request, want);
});

Deno.test("--from/--to is a backfill with lookback and jobs", () => {
  const c = parseBatchArgs([
    "--from",
    "2026-11-19",
    "--to",
    "2026-11-21",
    "--lookback-days",
    "7",
    "--jobs",
    "daily_summary,views",
    "--wait-seconds",
    "5",
  ]);
  assertEquals(c.request, {
    dates: ["2026-11-19", "2026-11-20", "2026-11-21"],
    lookbackDays: 7,
    jobs: ["daily_summary", "views"],
  });
  assertEquals(c.waitSeconds, 5);
});

Deno.test("bad command lines name the argument", () => {
  assertThrows(() => parseBatchArgs([]), UsageError);
  assertThrows(() => parseBatchArgs(["--date", "2026-02-30"]), /--date/);
  assertThrows(() => parseBatchArgs(["--hour", "2026-11-20 25:00"]), /--hour/);
  assertThrows(
    () => parseBatchArgs(["--date", "2026-11-20", "--hour", "2026-11-20 01:00"]),
    /exactly one/,
  );
  assertThrows(() => parseBatchArgs(["--from", "2026-11-20"]), /go together/);
  assertThrows(() => parseBatchArgs(["--from", "2026-11-21", "--to", "2026-11-20"]), /before/);
  assertThrows(
    () => parseBatchArgs(["--date", "2026-11-20", "--jobs", "nope"]),
    /unknown job "nope"/,
  );
  assertThrows(() => parseBatchArgs(["--date", "2026-11-20", "--lookback-days", "0"]), /lookback/);
  assertThrows(() => parseBatchArgs(["--date", "2026-11-20", "--bogus"]), UsageError);
});
