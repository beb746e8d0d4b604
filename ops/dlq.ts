/**
 * @module
 * `deno task dlq list|show|replay --topic T [--since ISO] [--limit N] [--reason R]`: inspect and
 * replay the dead-letter topic `<T>.dlq` of an input topic (see docs/OPERATIONS.md "Dead letters").
 *
 * - `list`: counts by `error.reason` and by reason/field (a table; `--json` for JSON).
 * - `show`: the messages with their headers, one JSON object per line.
 * - `replay`: re-validate and re-publish the valid ones to T (same key and value); prints a JSON
 *   report with the still-invalid ones by reason. `--dry-run` publishes nothing; `--ledger`
 *   names the ledger topic of replayed offsets (default `dlq-replay`).
 *
 * Exit codes: 0 done, 1 Kafka or runtime failure, 2 bad arguments or configuration.
 */
import { parseArgs } from "node:util";
import { loadConfigOrExit } from "../shared/config.ts";
import { createKafka } from "../shared/kafka.ts";
import {
  type DlqCounts,
  type DlqFilter,
  dlqList,
  dlqReplay,
  dlqShow,
  resolveSourceTopic,
} from "./dlq_core.ts";

const USAGE =
  "usage: deno task dlq list|show|replay --topic T [--since ISO] [--limit N] [--reason R] [--json] [--dry-run] [--ledger TOPIC]";

function fail(message: string): never {
  console.error(message);
  console.error(USAGE);
  Deno.exit(2);
}

function parseFilter(v: { since?: string; limit?: string; reason?: string }): DlqFilter {
  const f: DlqFilter = {};
  if (v.since !== undefined) {
    const ms = Date.parse(v.since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(v.since) || Number.isNaN(ms)) {
      fail(`--since must be an ISO date or date-time, got ${JSON.stringify(v.since)}`);
    }
    f.since = ms;
  }
  if (v.limit !== undefined) {
    if (!/^\d+$/.test(v.limit) || Number(v.limit) < 1) {
      fail(`--limit must be a positive integer, got ${JSON.stringify(v.limit)}`);
    }
    f.limit = Number(v.limit);
  }
  if (v.reason !== undefined) f.reason = v.reason;
  return f;
}

function table(c: DlqCounts): string {
  const rows = Object.entries(c.byReasonField).sort((a, b) =>
    b[1] - a[1] || a[0].localeCompare(b[0])
  );
  const lines = [
    `${c.topic}: ${c.total} message(s)` +
    (c.total ? ` from ${c.firstTimestamp} to ${c.lastTimestamp}` : ""),
  ];
  if (rows.length) {
    const width = Math.max(...rows.map(([k]) => k.length), "reason/field".length);
    lines.push(`${"reason/field".padEnd(width)}  count`);
    for (const [k, n] of rows) lines.push(`${k.padEnd(width)}  ${n}`);
    lines.push("", "by reason:");
    for (const [k, n] of Object.entries(c.byReason).sort((a, b) => b[1] - a[1])) {
      lines.push(`  ${k}: ${n}`);
    }
  }
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        topic: { type: "string" },
        since: { type: "string" },
        limit: { type: "string" },
        reason: { type: "string" },
        ledger: { type: "string" },
        json: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const command = positionals[0];
  if (positionals.length !== 1 || !["list", "show", "replay"].includes(command)) {
    fail(`expected one command: list, show or replay; got ${JSON.stringify(positionals)}`);
  }
  if (!values.topic) fail("--topic is required");
  const filter = parseFilter(values);
  const cfg = loadConfigOrExit();
  let source;
  try {
    source = resolveSourceTopic(cfg.topics, values.topic);
  } catch (e) {
    fail((e as Error).message);
  }
  const kafka = createKafka(cfg, "edu-ops-dlq");
  try {
    if (command === "list") {
      const counts = await dlqList(kafka, source, filter);
      console.log(values.json ? JSON.stringify(counts) : table(counts));
    } else if (command === "show") {
      for (const m of await dlqShow(kafka, source, filter)) console.log(JSON.stringify(m));
    } else {
      const report = await dlqReplay(kafka, source, {
        ...filter,
        dryRun: values["dry-run"],
        ledgerTopic: values.ledger,
      });
      console.log(JSON.stringify(report, null, values.json ? undefined : 2));
    }
    return 0;
  } catch (e) {
    console.error(`dlq ${command} failed: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
