/**
 * @module
 * Resolvers of the GraphQL additions (schema.ts): argument checks with BAD_USER_INPUT errors that
 * name the argument, then one store read per field.
 */
import { badUserInput } from "../graphql/scalars.ts";
import { MINUTE_MS } from "../../shared/time.ts";
import type { CdcMinuteRow, ExtStore, UserRecord } from "./store.ts";

/** Options of {@link createExtResolvers}. */
export interface ExtResolverOptions {
  /** `REALTIME_TTL_SECONDS`: how far back realtime rows exist; default 259200 (72 h). */
  realtimeTtlSeconds?: number;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

const MAX_RANGE_MS = 400 * 86_400_000;
const KINDS = ["inserts", "updates", "deletes", "snapshots", "truncates"] as const;
const OPERATION: Record<(typeof KINDS)[number], string> = {
  inserts: "INSERT",
  updates: "UPDATE",
  deletes: "DELETE",
  snapshots: "SNAPSHOT",
  truncates: "TRUNCATE",
};

function text(name: string, value: string, max: number): string {
  if (value.length === 0 || value.length > max) {
    throw badUserInput(`Argument "${name}": must be 1..${max} characters, got ${value.length}`);
  }
  return value;
}

function userView(u: UserRecord) {
  const keys = Object.keys(u.fields).sort();
  return {
    id: u.userId,
    known: u.hasCdc || keys.length > 0,
    deleted: u.deleted,
    profile: keys.map((key) => ({ key, value: u.fields[key] })),
    field: ({ key }: { key: string }) => u.fields[key] ?? null,
    sourcePosition: u.sourcePosition,
    profileChangedAt: u.sourceTs,
    device: u.device,
    country: u.country,
    lastAuthAt: u.lastAuthAt,
    riskFlags: u.riskFlags,
    riskAt: u.riskAt,
    engagementScore: u.engagementScore,
  };
}

/** Sums rows over partitions per minute, in time order. */
export function sumMinutes(rows: readonly CdcMinuteRow[]) {
  const by = new Map<number, Record<(typeof KINDS)[number], number>>();
  for (const r of rows) {
    let m = by.get(r.minute);
    if (!m) {
      by.set(r.minute, m = { inserts: 0, updates: 0, deletes: 0, snapshots: 0, truncates: 0 });
    }
    for (const k of KINDS) m[k] += r[k];
  }
  return [...by.entries()].sort(([a], [b]) => a - b).map(([start, m]) => ({
    start,
    end: start + MINUTE_MS,
    ...m,
  }));
}

/**
 * The resolvers, merged with the §4 resolvers (e.g. `createSchema({ resolvers: [main, ext] })`).
 * @param store where users and CDC summaries are read
 */
export function createExtResolvers(store: ExtStore, options: ExtResolverOptions = {}) {
  const ttlMs = (options.realtimeTtlSeconds ?? 259_200) * 1000;
  const now = options.now ?? Date.now;
  return {
    Query: {
      async user(_: unknown, args: { id: string }) {
        const u = await store.user(text("id", args.id, 128));
        return u ? userView(u) : null;
      },
      async cdcSummary(_: unknown, args: { table: string; from: number; to: number }) {
        const table = text("table", args.table, 200);
        if (!(args.to > args.from)) {
          throw badUserInput(`Argument "to": must be after "from"`);
        }
        if (args.to - args.from > MAX_RANGE_MS) {
          throw badUserInput(`Argument "to": the range may span at most 400 days`);
        }
        const from = args.from - (((args.from % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
        const to = Math.ceil(args.to / MINUTE_MS) * MINUTE_MS;
        const points = sumMinutes(await store.cdcMinutes(table, from, to));
        const totals = { inserts: 0, updates: 0, deletes: 0, snapshots: 0, truncates: 0 };
        for (const p of points) for (const k of KINDS) totals[k] += p[k];
        const t = now();
        const retained = t - ttlMs - (((t - ttlMs) % MINUTE_MS) + MINUTE_MS) % MINUTE_MS;
        const gaps: { start: number; end: number }[] = [];
        if (from < retained) gaps.push({ start: from, end: Math.min(to, retained) });
        const horizon = Math.ceil(t / MINUTE_MS) * MINUTE_MS;
        if (to > horizon) gaps.push({ start: Math.max(from, horizon), end: to });
        return {
          table,
          from,
          to,
          ...totals,
          total: KINDS.reduce((s, k) => s + totals[k], 0),
          operations: KINDS.map((k) => ({ operation: OPERATION[k], count: totals[k] })),
          points,
          complete: gaps.length === 0,
          gaps,
        };
      },
    },
  };
}
