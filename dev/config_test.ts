import assert from "node:assert/strict";
import { ConfigError } from "../shared/config.ts";
import { resolveDevConfig } from "./config.ts";

Deno.test("resolveDevConfig: defaults without variables or flags", () => {
  const c = resolveDevConfig({}, []);
  assert.equal(c.daysBack, 3);
  assert.equal(c.liveEventsPerSec, 200);
  assert.equal(c.backfillEventsPerSec, 4);
  assert.equal(c.orchestratorPort, 9998);
  assert.match(c.logDir, /\/\.state\/dev\/logs$/);
  assert.deepEqual([c.reset, c.live, c.help], [false, true, false]);
});

Deno.test("resolveDevConfig: variables and flags are read", () => {
  const c = resolveDevConfig(
    {
      DEV_DAYS_BACK: "0",
      DEV_EVENTS_PER_SEC: "12.5",
      DEV_LOG_DIR: "/tmp/x",
      ORCH_HEALTH_PORT: "0",
    },
    ["--reset", "--no-live"],
  );
  assert.deepEqual(
    [c.daysBack, c.liveEventsPerSec, c.logDir, c.orchestratorPort, c.reset, c.live],
    [0, 12.5, "/tmp/x", 0, true, false],
  );
});

Deno.test("resolveDevConfig: a malformed variable or flag names itself", () => {
  for (
    const [env, args, name] of [
      [{ DEV_DAYS_BACK: "31" }, [], "DEV_DAYS_BACK"],
      [{ DEV_DAYS_BACK: "1.5" }, [], "DEV_DAYS_BACK"],
      [{ DEV_EVENTS_PER_SEC: "0" }, [], "DEV_EVENTS_PER_SEC"],
      [{ DEV_USERS: "many" }, [], "DEV_USERS"],
      [{}, ["--days", "3"], "command line"],
    ] as const
  ) {
    assert.throws(
      () => resolveDevConfig(env, [...args]),
      (e) => e instanceof ConfigError && e.variable === name,
      JSON.stringify(env),
    );
  }
});
