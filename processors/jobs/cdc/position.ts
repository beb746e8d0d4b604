/**
 * @module
 * The order of changes of one row: Debezium's source position. Every connector puts a different
 * position into `source` (PostgreSQL `lsn`, SQL Server and Db2 `commit_lsn`/`change_lsn`, Oracle
 * `scn`, MySQL `file`+`pos`+`row` or `gtid`, MongoDB `ord` within `ts_ms`); the first one present
 * orders changes, then `source.ts_ms`, then the envelope `ts_ms`. Positions of different kinds
 * (or of different GTID servers) are not comparable and fall back to the times.
 */

/** A change's position in its source's log. */
export interface SourcePosition {
  /** Which position the connector gave (`"none"`: only times). */
  kind: string;
  /** The position's parts, compared left to right (empty for `"none"`). */
  parts: readonly bigint[];
  /** `source.ts_ms`: when the change was made in the database. */
  sourceTsMs: number;
  /** Envelope `ts_ms`: when the connector processed it. */
  tsMs: number;
}

type Source = Record<string, unknown>;

/** An unsigned integer from a JSON number or decimal text; undefined otherwise. */
function uint(v: unknown): bigint | undefined {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^\d{1,40}$/.test(v)) return BigInt(v);
  return undefined;
}

/** SQL Server / Db2 LSN text `0000002a:00000758:0003` (hex groups) as one number. */
function hexLsn(v: unknown): bigint | undefined {
  if (typeof v !== "string" || !/^[0-9a-fA-F]+(:[0-9a-fA-F]+)*$/.test(v)) return undefined;
  let n = 0n;
  for (const g of v.split(":")) n = (n << BigInt(4 * g.length)) + BigInt(`0x${g}`);
  return n;
}

/** The sequence number of a MySQL binlog file name such as `mysql-bin.000003`. */
function binlogSeq(v: unknown): bigint | undefined {
  if (typeof v !== "string") return undefined;
  const m = /(\d+)$/.exec(v);
  return m ? BigInt(m[1]) : undefined;
}

/**
 * The position of a change from its `source` block and envelope `ts_ms`.
 * @param source the Debezium `source` object
 * @param tsMs the envelope `ts_ms`
 */
export function sourcePosition(source: Source, tsMs: number): SourcePosition {
  const sourceTsMs = typeof source.ts_ms === "number" ? source.ts_ms : tsMs;
  const at = (kind: string, parts: bigint[]): SourcePosition => ({
    kind,
    parts,
    sourceTsMs,
    tsMs,
  });
  const lsn = uint(source.lsn);
  if (lsn !== undefined) return at("lsn", [lsn]);
  const commitLsn = hexLsn(source.commit_lsn);
  const changeLsn = hexLsn(source.change_lsn);
  if (commitLsn !== undefined || changeLsn !== undefined) {
    return at("commit_lsn", [
      commitLsn ?? changeLsn!,
      changeLsn ?? commitLsn!,
      uint(source.event_serial_no) ?? 0n,
    ]);
  }
  const scn = uint(source.scn);
  if (scn !== undefined) return at("scn", [uint(source.commit_scn) ?? scn, scn]);
  const file = binlogSeq(source.file);
  const pos = uint(source.pos);
  if (file !== undefined && pos !== undefined) {
    return at("binlog", [file, pos, uint(source.row) ?? 0n]);
  }
  if (typeof source.gtid === "string") {
    const m = /^([^:]+):(?:\d+-)?(\d+)$/.exec(source.gtid.trim());
    if (m) return at(`gtid:${m[1].toLowerCase()}`, [BigInt(m[2]), uint(source.row) ?? 0n]);
  }
  const ord = uint(source.ord);
  if (ord !== undefined) return at("ord", [BigInt(Math.max(0, sourceTsMs)), ord]);
  return at("none", []);
}

function cmp(a: bigint | number, b: bigint | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Orders two changes of the same row: negative when `a` is older, 0 when they are at the same
 * position and times (a repeat), positive when `a` is newer.
 */
export function comparePositions(a: SourcePosition, b: SourcePosition): number {
  if (a.kind === b.kind && a.kind !== "none") {
    const n = Math.min(a.parts.length, b.parts.length);
    for (let i = 0; i < n; i++) {
      const c = cmp(a.parts[i], b.parts[i]);
      if (c !== 0) return c;
    }
  }
  return cmp(a.sourceTsMs, b.sourceTsMs) || cmp(a.tsMs, b.tsMs);
}

/** The position as compact text, e.g. `lsn:24023128` or `binlog:3/154/0` (`none` for none). */
export function positionText(p: SourcePosition): string {
  return p.kind === "none" ? "none" : `${p.kind}:${p.parts.join("/")}`;
}

/** Largest sub-millisecond step of {@link writeTimestampUs}. */
export const MAX_TIE_STEP = 999;

/**
 * The Cassandra write timestamp (µs) of a row state produced by a change: `source.ts_ms` in
 * microseconds plus `tieStep` (0..999), which orders changes of one row made within the same
 * millisecond. Comparable with event times in µs, so per-cell last-write-wins keeps the newest
 * value whatever the order the writes arrive in.
 */
export function writeTimestampUs(p: SourcePosition, tieStep = 0): number {
  const step = Math.max(0, Math.min(MAX_TIE_STEP, Math.floor(tieStep)));
  return p.sourceTsMs * 1000 + step;
}
