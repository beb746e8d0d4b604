/**
 * @module
 * RFC 6902 JSON Patch over plain JSON values, as kustomize applies `patches` entries whose body is
 * a list of operations. Pure: the input document is never modified.
 */

/** One RFC 6902 operation. */
export type JsonPatchOp =
  | { op: "add" | "replace" | "test"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "move" | "copy"; from: string; path: string };

type Container = Record<string, unknown> | unknown[];

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) {
    throw new SyntaxError(`Invalid JSON pointer ${JSON.stringify(pointer)}: must start with "/"`);
  }
  return pointer.slice(1).split("/").map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function isContainer(v: unknown): v is Container {
  return typeof v === "object" && v !== null;
}

function arrayIndex(arr: unknown[], token: string, forAdd: boolean, pointer: string): number {
  if (forAdd && token === "-") return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) {
    throw new RangeError(`JSON patch path ${pointer}: "${token}" is not an array index`);
  }
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) {
    throw new RangeError(`JSON patch path ${pointer}: index ${i} out of bounds (${arr.length})`);
  }
  return i;
}

function parentOf(doc: unknown, tokens: string[], pointer: string): Container {
  let at: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(at)) at = at[arrayIndex(at, t, false, pointer)];
    else if (isContainer(at) && Object.hasOwn(at, t)) at = (at as Record<string, unknown>)[t];
    else throw new RangeError(`JSON patch path ${pointer}: "${t}" does not exist`);
  }
  if (!isContainer(at)) {
    throw new RangeError(`JSON patch path ${pointer}: parent is not a container`);
  }
  return at;
}

function get(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false, pointer)];
  if (!Object.hasOwn(parent, last)) {
    throw new RangeError(`JSON patch path ${pointer}: "${last}" does not exist`);
  }
  return parent[last];
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, pointer), 0, value);
  else parent[last] = value;
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new RangeError("JSON patch: cannot remove the whole document");
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false, pointer), 1);
  else if (Object.hasOwn(parent, last)) delete parent[last];
  else throw new RangeError(`JSON patch path ${pointer}: "${last}" does not exist`);
  return doc;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isContainer(v)) {
    return Object.fromEntries(
      Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * Applies operations in order to a deep copy of `doc`.
 * @param doc a JSON value
 * @param ops RFC 6902 operations
 * @returns the patched copy
 * @throws {RangeError} when a path does not exist (replace, remove, test, move/copy source) or a
 * test fails; the whole patch then has no effect
 * @example
 * ```ts
 * applyJsonPatch({ spec: { replicas: 2 } }, [{ op: "replace", path: "/spec/replicas", value: 6 }]);
 * // → { spec: { replicas: 6 } }
 * ```
 */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  let out: unknown = structuredClone(doc);
  for (const op of ops) {
    switch (op.op) {
      case "add":
        out = add(out, op.path, structuredClone(op.value));
        break;
      case "replace":
        get(out, op.path);
        out = add(remove(out, op.path), op.path, structuredClone(op.value));
        break;
      case "remove":
        out = remove(out, op.path);
        break;
      case "test":
        if (!deepEqual(get(out, op.path), op.value)) {
          throw new RangeError(`JSON patch test failed at ${op.path}`);
        }
        break;
      case "copy":
        out = add(out, op.path, structuredClone(get(out, op.from)));
        break;
      case "move": {
        const v = get(out, op.from);
        out = add(remove(out, op.from), op.path, v);
        break;
      }
      default:
        throw new RangeError(`JSON patch: unknown op ${JSON.stringify((op as { op: string }).op)}`);
    }
  }
  return out as T;
}

/** Checks that a parsed value is a list of RFC 6902 operations. */
export function isJsonPatch(value: unknown): value is JsonPatchOp[] {
  return Array.isArray(value) &&
    value.every((o) =>
      isContainer(o) && !Array.isArray(o) && typeof o.op === "string" && typeof o.path === "string"
    );
}
