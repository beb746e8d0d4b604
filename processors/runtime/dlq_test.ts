import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { deadLetter } from "./dlq.ts";

Deno.test("a dead letter keeps the record unchanged and says why and where from", () => {
  const value = new TextEncoder().encode("{not json");
  const key = new TextEncoder().encode("user_1");
  const m = deadLetter(
    { key, value, timestamp: "1790000000000", headers: { trace: "abc" } },
    { topic: "video_topic", partition: 3, offset: 42 },
    { reason: "invalid_json", field: "", detail: "not JSON: Unexpected token" },
  );
  assertEquals(m.value, value);
  assertEquals(m.key, key);
  assertEquals(m.timestamp, "1790000000000");
  assertEquals(m.headers, {
    trace: "abc",
    "error.reason": "invalid_json",
    "error.field": "",
    "error.detail": "not JSON: Unexpected token",
    "source.topic": "video_topic",
    "source.partition": "3",
    "source.offset": "42",
  });
});

Deno.test("a job's dead letter also names the job that rejected the record", () => {
  const m = deadLetter(
    { key: null, value: new TextEncoder().encode("{}"), timestamp: "1" },
    { topic: "topic_cdc_changes", partition: 0, offset: 7, job: "cdc_transformation" },
    { reason: "missing_field", field: "key", detail: "no key" },
  );
  assertEquals(m.headers?.["error.job"], "cdc_transformation");
  assertEquals(m.headers?.["error.reason"], "missing_field");
  assertEquals(m.headers?.["source.offset"], "7");
});
