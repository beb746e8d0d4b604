import assert from "node:assert/strict";
import { ConfigError, STREAM_JOBS } from "../shared/config.ts";
import { resolveOrchestratorConfig } from "./config.ts";

const base = { streamJobs: [...STREAM_JOBS], healthPort: 9999 };

Deno.test("defaults: both switches on, hourly after 5 min, daily at 02:00 with the recompute", () => {
  const c = resolveOrchestratorConfig({}, {}, base);
  assert.equal(c.streaming, true);
  assert.equal(c.batch, true);
  assert.equal(c.hourlyDelayMs, 5 * 60_000);
  assert.equal(c.dailyAtMs, 2 * 3_600_000);
  assert.deepEqual(c.hourlyJobs, ["hourly_aggregate", "views"]);
  assert.deepEqual(c.dailyJobs, [
    "daily_summary",
    "user_segmentation",
    "hourly_aggregate",
    "views",
  ]);
  assert.equal(c.healthPort, 9998);
  assert.equal(c.streamHealthPort, 9999);
  assert.equal(c.maxAttempts, 3);
  assert.equal(c.segmentationLookbackDays, undefined);
  assert.equal(c.batchLockWaitSec, 300);
});

Deno.test("the seed's switches and the ORCH_ variables are read", () => {
  const c = resolveOrchestratorConfig(
    {
      ORCH_HOURLY_DELAY_MIN: "15",
      ORCH_BATCH_LOCK_WAIT_SEC: "0",
      ORCH_DAILY_AT: "3:30",
      ORCH_DISABLED_BATCH_JOBS: "user_segmentation, views",
      ORCH_DAILY_RECOMPUTE: "false",
      ORCH_SEGMENTATION_LOOKBACK_DAYS: "14",
      ORCH_HEALTH_PORT: "0",
    },
    { streaming: "false", batch: "true" },
    base,
  );
  assert.equal(c.streaming, false);
  assert.equal(c.hourlyDelayMs, 15 * 60_000);
  assert.equal(c.dailyAtMs, 3.5 * 3_600_000);
  assert.deepEqual(c.hourlyJobs, ["hourly_aggregate"]);
  assert.deepEqual(c.dailyJobs, ["daily_summary"]);
  assert.equal(c.segmentationLookbackDays, 14);
  assert.equal(c.healthPort, 0);
  assert.equal(c.batchLockWaitSec, 0);
});

Deno.test("malformed settings fail with the variable's name", () => {
  const cases: [Record<string, string>, Record<string, string>, RegExp][] = [
    [{ ORCH_DAILY_AT: "25:00" }, {}, /ORCH_DAILY_AT="25:00"/],
    [
      { ORCH_DAILY_AT: "00:04" },
      {},
      /ORCH_DAILY_AT="00:04": must be at least ORCH_HOURLY_DELAY_MIN/,
    ],
    [{ ORCH_HOURLY_DELAY_MIN: "abc" }, {}, /ORCH_HOURLY_DELAY_MIN/],
    [{ ORCH_HOURLY_DELAY_MIN: "1" }, {}, /ORCH_HOURLY_DELAY_MIN="1": expected an integer in 3..59/],
    [{ ORCH_DISABLED_BATCH_JOBS: "nightly" }, {}, /unknown batch job "nightly"/],
    [{}, { streaming: "maybe" }, /--streaming="maybe"/],
    [{}, { streaming: "false", batch: "false" }, /both false/],
    [{ ORCH_HEALTH_PORT: "9999" }, {}, /ORCH_HEALTH_PORT.*clashes with HEALTH_PORT=9999/],
    [{ ORCH_RETRY_BASE_SEC: "60", ORCH_RETRY_MAX_SEC: "10" }, {}, /ORCH_RETRY_MAX_SEC/],
  ];
  for (const [env, args, message] of cases) {
    assert.throws(() => resolveOrchestratorConfig(env, args, base), (e: Error) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("the health port may equal HEALTH_PORT when no stream child runs", () => {
  const c = resolveOrchestratorConfig({ ORCH_HEALTH_PORT: "9999" }, { streaming: "false" }, base);
  assert.equal(c.healthPort, 9999);
});

Deno.test("streaming with every stream job disabled is refused", () => {
  assert.throws(
    () => resolveOrchestratorConfig({}, {}, { streamJobs: [], healthPort: 9999 }),
    /every stream job is disabled/,
  );
});
