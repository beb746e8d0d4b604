import assert from "node:assert/strict";
import { createLogger, type LogFields } from "./log.ts";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const log = createLogger({ name: "test", level, write: (l) => lines.push(l), now: () => 0 });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as LogFields) };
}

Deno.test("a line is one JSON object with ts, level, name, msg and the fields", () => {
  const { log, lines, records } = capture();
  log.info("started", { port: 8000 });
  assert.deepEqual(lines.length, 1);
  assert.ok(!lines[0].includes("\n"));
  assert.deepEqual(records()[0], {
    ts: "1970-01-01T00:00:00.000Z",
    level: "info",
    name: "test",
    msg: "started",
    port: 8000,
  });
  assert.deepEqual(Object.keys(records()[0]).slice(0, 4), ["ts", "level", "name", "msg"]);
});

Deno.test("levels below the logger's level are not written", () => {
  const { log, records } = capture("warn");
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assert.deepEqual(records().map((r) => r.level), ["warn", "error"]);
  assert.ok(!log.enabled("info"));
  assert.ok(log.enabled("error"));
});

Deno.test("the default level is info", () => {
  const { log, records } = capture();
  log.debug("hidden");
  log.info("shown");
  assert.deepEqual(records().map((r) => r.msg), ["shown"]);
  assert.deepEqual(log.level, "info");
});

Deno.test("errors in fields keep name, message, stack and cause", () => {
  const { log, records } = capture();
  const cause = new TypeError("inner");
  log.error("failed", { err: new Error("boom", { cause }) });
  const err = records()[0].err as Record<string, unknown>;
  assert.deepEqual(err.name, "Error");
  assert.deepEqual(err.message, "boom");
  assert.ok(typeof err.stack === "string" && err.stack.includes("boom"));
  assert.deepEqual((err.cause as Record<string, unknown>).message, "inner");
});

Deno.test("child loggers add their fields to every line, line fields win", () => {
  const { log, records } = capture("debug");
  const child = log.child({ job: "video_views", partition: 1 }).child({ partition: 2 });
  child.debug("x", { extra: true });
  child.info("y", { partition: 3 });
  assert.deepEqual(records()[0].job, "video_views");
  assert.deepEqual(records()[0].partition, 2);
  assert.deepEqual(records()[0].extra, true);
  assert.deepEqual(records()[1].partition, 3);
  assert.deepEqual(child.level, "debug");
});

Deno.test("fields cannot overwrite the core keys", () => {
  const { log, records } = capture();
  log.info("real", { msg: "fake", level: "error" });
  assert.deepEqual(records()[0].msg, "real");
  assert.deepEqual(records()[0].level, "info");
  assert.deepEqual(records()[0]["field.msg"], "fake");
});

Deno.test("unserialisable fields still produce a line", () => {
  const { log, records } = capture();
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  log.warn("circular", { loop, big: 1n });
  assert.deepEqual(records()[0].msg, "circular");
  assert.ok(typeof records()[0].logError === "string");
  log.info("bigint", { big: 12n });
  assert.deepEqual(records()[1].big, "12");
});

Deno.test("an unknown level is refused", () => {
  let threw = false;
  try {
    createLogger({ name: "x", level: "verbose" as "info" });
  } catch (e) {
    threw = e instanceof RangeError;
  }
  assert.ok(threw);
});
