/**
 * @module
 * One Debezium change record, classified: the operation kind, the row key (from the message key,
 * with or without the JSON converter's `{schema, payload}` wrapper), before and after states, the
 * changed fields of an update, and the source position. Tombstones (null values) become
 * `TOMBSTONE` records that carry only the key. Job-level checks reject what `parseEvent` cannot
 * see: a row change without any key, or a key that contradicts the row.
 */
import type { CdcPayload, Rejection } from "../../../shared/events.ts";
import { type SourcePosition, sourcePosition } from "./position.ts";

/** Debezium's operation codes. */
export type OpCode = "c" | "u" | "d" | "r" | "t";

/** The kinds of change the job reports; a tombstone is not an operation but is recorded. */
export type ChangeKind = "INSERT" | "UPDATE" | "DELETE" | "SNAPSHOT" | "TRUNCATE" | "TOMBSTONE";

/** Operation code → kind. */
export const OP_KINDS: Readonly<Record<OpCode, Exclude<ChangeKind, "TOMBSTONE">>> = {
  c: "INSERT",
  u: "UPDATE",
  d: "DELETE",
  r: "SNAPSHOT",
  t: "TRUNCATE",
};

/** A row state (`before`/`after`). */
export type RowState = Record<string, unknown>;

/** One classified change. */
export interface Change {
  kind: ChangeKind;
  /** Operation code; null for a tombstone. */
  op: OpCode | null;
  /** `source.table`; null for a tombstone. */
  table: string | null;
  /** `source.db` / `source.schema` when present. */
  db: string | null;
  schema: string | null;
  /** The row key object (null for a truncate, or a tombstone without a key). */
  key: RowState | null;
  /** The key as canonical JSON (sorted fields), or null. */
  keyText: string | null;
  /** The key's `id` (or `user_id`, or only field) as text: the entity id; null when none. */
  entityId: string | null;
  before: RowState | null;
  after: RowState | null;
  /** Fields whose value differs between `before` and `after` (updates with both states). */
  changed: string[];
  position: SourcePosition;
}

/** Result of {@link toChange}. */
export type ChangeResult = { ok: Change; err?: undefined } | { ok?: undefined; err: Rejection };

function isObject(v: unknown): v is RowState {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Canonical JSON: object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * The row key of a Debezium message key: JSON object, or `{schema, payload}` around one, or plain
 * text (taken as `{id: text}`). Null for no key or an empty key.
 * @throws nothing; a malformed key is reported as `{ err }`
 */
export function decodeKey(
  raw: string | null,
): { ok: RowState | null; err?: undefined } | { ok?: undefined; err: Rejection } {
  if (raw === null || raw.trim() === "") return { ok: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: { id: raw } };
  }
  if (isObject(parsed) && "payload" in parsed && "schema" in parsed) parsed = parsed.payload;
  if (parsed === null) return { ok: null };
  if (typeof parsed === "string" || typeof parsed === "number") return { ok: { id: parsed } };
  if (!isObject(parsed)) {
    return {
      err: {
        reason: "wrong_type",
        field: "key",
        detail: `message key must be a JSON object or text, got ${
          Array.isArray(parsed) ? "array" : typeof parsed
        }`,
      },
    };
  }
  return { ok: Object.keys(parsed).length === 0 ? null : parsed };
}

/** The entity id of a key: `id`, else `user_id`, else its only field; as text. */
export function entityIdOf(key: RowState | null): string | null {
  if (!key) return null;
  const keys = Object.keys(key);
  const v = "id" in key
    ? key.id
    : "user_id" in key
    ? key.user_id
    : keys.length === 1
    ? key[keys[0]]
    : undefined;
  if (typeof v === "string" && v.length > 0) return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return null;
}

/** Fields whose values differ between two row states (by canonical JSON), sorted. */
export function changedFields(before: RowState | null, after: RowState | null): string[] {
  if (!before || !after) return [];
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((k) => canonicalJson(before[k]) !== canonicalJson(after[k])).sort();
}

function reject(reason: Rejection["reason"], field: string, detail: string): ChangeResult {
  return { err: { reason, field, detail } };
}

/**
 * Classifies a parsed CDC payload (or a tombstone) with its message key.
 * @param payload the payload `parseEvent` accepted; null for a tombstone
 * @param meta the message key text and Kafka timestamp (a tombstone's time)
 */
export function toChange(
  payload: CdcPayload | null,
  meta: { key: string | null; kafkaTs: number },
): ChangeResult {
  const k = decodeKey(meta.key);
  if (k.err) return { err: k.err };
  const key = k.ok ?? null;
  if (payload === null) {
    return {
      ok: {
        kind: "TOMBSTONE",
        op: null,
        table: null,
        db: null,
        schema: null,
        key,
        keyText: key ? canonicalJson(key) : null,
        entityId: entityIdOf(key),
        before: null,
        after: null,
        changed: [],
        position: { kind: "none", parts: [], sourceTsMs: meta.kafkaTs, tsMs: meta.kafkaTs },
      },
    };
  }
  const op = payload.op as OpCode;
  const before = isObject(payload.before) ? payload.before : null;
  const after = isObject(payload.after) ? payload.after : null;
  const source = payload.source as Record<string, unknown>;
  let rowKey = key;
  if (op !== "t") {
    const row = after ?? before;
    if (!rowKey) {
      // Without a message key, a row that names its own id still identifies itself.
      const id = row ? entityIdOf({ id: row.id ?? row.user_id }) : null;
      if (id === null) {
        return reject(
          "missing_field",
          "key",
          `op "${op}" on table "${String(source.table)}" has no message key and no row id`,
        );
      }
      rowKey = { id };
    } else if (row && "id" in rowKey && "id" in row && String(row.id) !== String(rowKey.id)) {
      return reject(
        "invalid_value",
        "key",
        `message key id ${JSON.stringify(rowKey.id)} differs from the row's id ${
          JSON.stringify(row.id)
        }`,
      );
    }
  }
  return {
    ok: {
      kind: OP_KINDS[op],
      op,
      table: String(source.table),
      db: typeof source.db === "string" ? source.db : null,
      schema: typeof source.schema === "string" ? source.schema : null,
      key: op === "t" ? null : rowKey,
      keyText: op === "t" || !rowKey ? null : canonicalJson(rowKey),
      entityId: op === "t" ? null : entityIdOf(rowKey),
      before,
      after,
      changed: op === "u" ? changedFields(before, after) : [],
      position: sourcePosition(source, payload.ts_ms),
    },
  };
}
