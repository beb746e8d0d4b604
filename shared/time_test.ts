import assert from "node:assert/strict";
import {
  bucketStarts,
  DAY_MS,
  floorDay,
  floorHour,
  floorMinute,
  HOUR_MS,
  hourKey,
  isoDate,
  MINUTE_MS,
  parseHourKey,
  parseIsoDate,
  toIso,
} from "./time.ts";

const T = Date.UTC(2026, 10, 20, 5, 4, 3, 2); // 2026-11-20T05:04:03.002Z

Deno.test("bucket sizes are minute, hour and day in ms", () => {
  assert.deepEqual([MINUTE_MS, HOUR_MS, DAY_MS], [60_000, 3_600_000, 86_400_000]);
});

Deno.test("floors round down to the UTC bucket start", () => {
  assert.deepEqual(floorMinute(T), Date.UTC(2026, 10, 20, 5, 4));
  assert.deepEqual(floorHour(T), Date.UTC(2026, 10, 20, 5));
  assert.deepEqual(floorDay(T), Date.UTC(2026, 10, 20));
});

Deno.test("a bucket start is its own floor (half-open buckets)", () => {
  const h = Date.UTC(2026, 10, 20, 5);
  assert.deepEqual(floorHour(h), h);
  assert.deepEqual(floorHour(h - 1), h - HOUR_MS);
  assert.deepEqual(floorMinute(h + MINUTE_MS - 1), h);
});

Deno.test("floors work before the epoch", () => {
  assert.deepEqual(floorMinute(-1), -MINUTE_MS);
  assert.deepEqual(floorDay(-1), -DAY_MS);
});

Deno.test("ISO helpers format UTC", () => {
  assert.deepEqual(toIso(T), "2026-11-20T05:04:03.002Z");
  assert.deepEqual(isoDate(T), "2026-11-20");
  assert.deepEqual(hourKey(T), "2026-11-20T05");
  assert.deepEqual(toIso(0), "1970-01-01T00:00:00.000Z");
});

Deno.test("toIso refuses times outside years 0000..9999", () => {
  assert.throws(() => toIso(NaN), RangeError);
  assert.throws(() => toIso(Date.UTC(10000, 0, 1)), RangeError);
});

Deno.test("parseIsoDate returns UTC midnight", () => {
  assert.deepEqual(parseIsoDate("2026-11-20"), Date.UTC(2026, 10, 20));
  assert.deepEqual(parseIsoDate("2024-02-29"), Date.UTC(2024, 1, 29));
});

Deno.test("parseIsoDate throws a RangeError naming the value", () => {
  for (const bad of ["2026-02-30", "2026-13-01", "2026-1-01", "20261120", "", "2026-11-20T00"]) {
    assert.throws(() => parseIsoDate(bad), (e: Error) => {
      return e instanceof RangeError && e.message.includes(JSON.stringify(bad));
    });
  }
});

Deno.test("parseHourKey accepts the manifest and CLI forms", () => {
  const h = Date.UTC(2026, 10, 20, 5);
  assert.deepEqual(parseHourKey("2026-11-20T05"), h);
  assert.deepEqual(parseHourKey("2026-11-20 05:00"), h);
  assert.deepEqual(parseHourKey("2026-11-20T05:00:00Z"), h);
  assert.deepEqual(parseHourKey(hourKey(h)), h);
  for (const bad of ["2026-11-20 24:00", "2026-11-20 05:30", "2026-02-30T01", "x"]) {
    assert.throws(() => parseHourKey(bad), RangeError);
  }
});

Deno.test("bucketStarts lists the buckets overlapping [from, to)", () => {
  const d = Date.UTC(2026, 10, 20);
  assert.deepEqual(bucketStarts(d + 1, d + 2 * HOUR_MS, HOUR_MS), [d, d + HOUR_MS]);
  assert.deepEqual(bucketStarts(d, d, HOUR_MS), []);
  assert.throws(() => bucketStarts(0, 1, 0), RangeError);
});
