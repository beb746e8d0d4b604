import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type CdcPayload, parseEvent } from "../../../shared/events.ts";
import { canonicalJson, changedFields, decodeKey, toChange } from "./change.ts";
import { comparePositions, positionText, sourcePosition, writeTimestampUs } from "./position.ts";
import { mysqlChange, pgChange, sqlServerChange, userKey } from "./_fixtures.ts";

const T = Date.UTC(2026, 10, 20, 5, 0, 0);
const NOW = T + 86_400_000;

function payloadOf(raw: string): CdcPayload {
  const r = parseEvent("CDC", raw, { now: NOW });
  if (!r.ok) throw new Error(r.err.detail);
  return r.ok.data as CdcPayload;
}

function change(raw: string | null, key: string | null = userKey("u1")) {
  return toChange(raw === null ? null : payloadOf(raw), { key, kafkaTs: T + 9 });
}

Deno.test("each Debezium op is classified, bare or wrapped in schema/payload", () => {
  const row = { id: "u1", email: "a@x.io" };
  const cases = [
    ["c", "INSERT", { after: row }],
    ["u", "UPDATE", { before: row, after: { ...row, email: "b@x.io" } }],
    ["d", "DELETE", { before: row }],
    ["r", "SNAPSHOT", { after: row }],
    ["t", "TRUNCATE", {}],
  ] as const;
  for (const wrapped of [false, true]) {
    for (const [op, kind, states] of cases) {
      const r = change(pgChange(op, T, { ...states, wrapped }));
      assert(r.ok, `${op} wrapped=${wrapped}: ${r.err?.detail}`);
      assertEquals(r.ok.kind, kind);
      assertEquals(r.ok.op, op);
      assertEquals(r.ok.table, "users");
      assertEquals(r.ok.schema, "public");
      assertEquals(r.ok.position.kind, "lsn");
      if (op === "t") {
        assertEquals([r.ok.key, r.ok.entityId, r.ok.before, r.ok.after], [null, null, null, null]);
      } else {
        assertEquals(r.ok.entityId, "u1");
        assertEquals(r.ok.keyText, '{"id":"u1"}');
      }
    }
  }
});

Deno.test("an update keeps both states and lists the changed fields", () => {
  const r = change(
    pgChange("u", T, {
      before: { id: "u1", email: "a@x.io", plan: "free", tags: ["a"] },
      after: { id: "u1", email: "a@x.io", plan: "premium", tags: ["a", "b"], bio: "hi" },
    }),
  );
  assert(r.ok);
  assertEquals(r.ok.before, { id: "u1", email: "a@x.io", plan: "free", tags: ["a"] });
  assertEquals(r.ok.after?.plan, "premium");
  assertEquals(r.ok.changed, ["bio", "plan", "tags"]);
  // PostgreSQL without REPLICA IDENTITY FULL sends no before state: nothing to diff.
  const noBefore = change(pgChange("u", T, { after: { id: "u1", plan: "free" } }));
  assert(noBefore.ok);
  assertEquals([noBefore.ok.before, noBefore.ok.changed], [null, []]);
});

Deno.test("a tombstone (null value) is a TOMBSTONE record carrying its key only", () => {
  const r = change(null, userKey("u7", true));
  assert(r.ok);
  assertEquals(r.ok.kind, "TOMBSTONE");
  assertEquals([r.ok.op, r.ok.table, r.ok.entityId], [null, null, "u7"]);
  assertEquals(r.ok.position.sourceTsMs, T + 9);
});

Deno.test("message keys: plain JSON, schema/payload wrapper, plain text, none", () => {
  assertEquals(decodeKey('{"id":"u1"}'), { ok: { id: "u1" } });
  assertEquals(decodeKey(userKey("u2", true)), { ok: { id: "u2" } });
  assertEquals(decodeKey("u3"), { ok: { id: "u3" } });
  assertEquals(decodeKey(null), { ok: null });
  assertEquals(decodeKey("{}"), { ok: null });
  const bad = decodeKey("[1,2]");
  assertEquals([bad.err?.field, bad.err?.reason], ["key", "wrong_type"]);
});

Deno.test("a row change without a key falls back to the row id, else is rejected", () => {
  const withId = change(pgChange("c", T, { after: { id: "u9", email: "e" } }), null);
  assert(withId.ok);
  assertEquals(withId.ok.entityId, "u9");
  const noId = change(pgChange("c", T, { after: { email: "e" } }), null);
  assertEquals(noId.err?.reason, "missing_field");
  assertEquals(noId.err?.field, "key");
  // A truncate has no key by nature.
  assert(change(pgChange("t", T), null).ok);
});

Deno.test("a key contradicting the row's id is rejected", () => {
  const r = change(pgChange("u", T, { after: { id: "u2" } }), userKey("u1"));
  assertEquals(r.err?.reason, "invalid_value");
  assertEquals(r.err?.field, "key");
});

Deno.test("malformed change events are rejected by parseEvent before the job sees them", () => {
  const cases: [string, string, string][] = [
    [
      '{"op":"c","after":{"id":"u1"},"source":{"table":"users"},"ts_ms":1}',
      "missing_field",
      "source.ts_ms",
    ],
    ['{"op":"x","after":{},"source":{"table":"users","ts_ms":1},"ts_ms":1}', "invalid_value", "op"],
    [
      '{"op":"c","after":null,"source":{"table":"users","ts_ms":1},"ts_ms":1}',
      "missing_field",
      "after",
    ],
    ['{"op":"d","source":{"table":"users","ts_ms":1},"ts_ms":1}', "missing_field", "before"],
    [
      '{"op":"c","after":"id=1","source":{"table":"users","ts_ms":1},"ts_ms":1}',
      "wrong_type",
      "after",
    ],
    [
      '{"payload":{"op":"c","after":{},"source":{"table":"","ts_ms":1},"ts_ms":1}}',
      "invalid_value",
      "source.table",
    ],
    ["[1]", "not_object", ""],
    ["{", "invalid_json", ""],
  ];
  for (const [raw, reason, field] of cases) {
    const r = parseEvent("CDC", raw, { now: NOW });
    assertEquals([r.err?.reason, r.err?.field], [reason, field], raw);
  }
});

Deno.test("positions: PostgreSQL lsn, MySQL binlog file/pos/row, SQL Server commit/change lsn", () => {
  const pos = (raw: string) => change(raw).ok!.position;
  const a = pos(pgChange("u", T + 5, { after: { id: "u1" }, lsn: 900 }));
  const b = pos(pgChange("u", T, { after: { id: "u1" }, lsn: 1000 }));
  assert(comparePositions(a, b) < 0, "lower lsn is older even with a later ts_ms");
  assertEquals(positionText(b), "lsn:1000");

  const m1 = pos(mysqlChange("u", T, { after: { id: "u1" }, file: "mysql-bin.000003", pos: 900 }));
  const m2 = pos(mysqlChange("u", T, { after: { id: "u1" }, file: "mysql-bin.000004", pos: 4 }));
  const m3 = pos(
    mysqlChange("u", T, { after: { id: "u1" }, file: "mysql-bin.000004", pos: 4, row: 1 }),
  );
  assert(comparePositions(m1, m2) < 0 && comparePositions(m2, m3) < 0);
  assertEquals(positionText(m3), "binlog:4/4/1");

  const s1 = pos(sqlServerChange("u", T, {
    after: { id: "u1" },
    commitLsn: "00000027:00000758:0005",
    changeLsn: "00000027:00000758:0003",
  }));
  const s2 = pos(sqlServerChange("u", T, {
    after: { id: "u1" },
    commitLsn: "00000027:00000760:0002",
    changeLsn: "00000027:00000759:0001",
  }));
  assert(comparePositions(s1, s2) < 0);
  assertEquals(comparePositions(s2, s2), 0);
});

Deno.test("positions fall back to source.ts_ms, then ts_ms, when absent or incomparable", () => {
  const p = (source: Record<string, unknown>, ts: number) => sourcePosition(source, ts);
  assertEquals(p({ ts_ms: 5 }, 9).kind, "none");
  assert(comparePositions(p({ ts_ms: 5 }, 9), p({ ts_ms: 6 }, 1)) < 0);
  assert(comparePositions(p({ ts_ms: 5 }, 9), p({ ts_ms: 5 }, 10)) < 0);
  // Different GTID servers are not comparable: times decide.
  const g1 = p({ ts_ms: 7, gtid: "aaaa-1:100" }, 7);
  const g2 = p({ ts_ms: 6, gtid: "bbbb-2:900" }, 6);
  assert(comparePositions(g1, g2) > 0);
  const g3 = p({ ts_ms: 5, gtid: "aaaa-1:101" }, 5);
  assert(comparePositions(g1, g3) < 0, "same server: the transaction number decides");
  // Oracle SCN, MongoDB ord within the second.
  assert(comparePositions(p({ ts_ms: 9, scn: "200" }, 9), p({ ts_ms: 1, scn: "300" }, 1)) < 0);
  assert(
    comparePositions(p({ ts_ms: 1000, ord: 2 }, 1), p({ ts_ms: 1000, ord: 3 }, 1)) < 0,
  );
});

Deno.test("write timestamps are µs of source time plus a bounded tie step", () => {
  const p = sourcePosition({ ts_ms: 1_700_000_000_123, lsn: 5 }, 0);
  assertEquals(writeTimestampUs(p), 1_700_000_000_123_000);
  assertEquals(writeTimestampUs(p, 2), 1_700_000_000_123_002);
  assertEquals(writeTimestampUs(p, 5000), 1_700_000_000_123_999);
});

Deno.test("canonical JSON sorts object keys at every level", () => {
  assertEquals(
    canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: null } }),
    '{"a":{"c":null,"d":[1,{"e":2,"f":1}]},"b":1}',
  );
  assertEquals(changedFields({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }), []);
});
