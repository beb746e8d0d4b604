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
