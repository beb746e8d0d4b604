/**
 * @module
 * `deno task test [args...]`: makes sure the local Kafka and Cassandra run (starting them when they
 * do not), runs the tests, stops the servers again if it started them (unless `KEEP_SERVERS=1`),
 * and exits non-zero when a test failed.
 *
 * Without arguments the suite runs in bounded pieces, so one stuck test cannot stall CI:
 * - every test file outside `tests/` (unit tests of pure code) in one `deno test` process;
 * - each `tests/*_test.ts` file (real servers) in its own `deno test` process.
 * Each piece runs in its own process group and is killed with everything it started when it
 * overruns `TEST_FILE_TIMEOUT_S` (default 900); the tests it had not finished count as failed.
 * Pieces that would start after `TEST_BUDGET_S` (default 4200) are not run and count as failed.
 * The last line is deno's summary form, `ok | N passed | N failed (…)`, over all pieces.
 *
 * With arguments, they are handed to one `deno test -A --permit-no-files [args...]` under the same
 * time limit. `EDU_SERVERS=external` skips the local servers (use what the environment points to).
 */

import { createLogger } from "../shared/log.ts";
import { ensureLocalServers, type LocalServers } from "../infra/local/mod.ts";

const log = createLogger({ name: "test-runner" });
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const SKIP_DIRS = new Set(["node_modules", ".state", ".git", "data", "outputs", ".ci"]);

/** One `deno test` (or, with `command`, `deno <command>`) invocation. */
export interface Piece {
  name: string;
  args: string[];
  command?: "test" | "check";
}

/** The outcome of one piece. */
export interface PieceResult {
  name: string;
  passed: number;
  failed: number;
  ms: number;
  timedOut: boolean;
}

/** Test files under `dir` (relative to the repository), sorted, as `deno test` finds them. */
export async function findTestFiles(dir = ROOT, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${rel}`)) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) {
      if (!SKIP_DIRS.has(e.name)) out.push(...await findTestFiles(dir, path));
    } else if (/(^|[._])test\.(ts|tsx|js|mjs)$/.test(e.name)) {
      out.push(path);
    }
  }
  return out.sort();
}

/**
 * The default pieces: one type check of every test file (so the pieces need not check their
 * overlapping graphs again), the unit files together, then each `tests/` file alone.
 */
export function planPieces(files: readonly string[]): Piece[] {
  const unit = files.filter((f) => !f.startsWith("tests/"));
  const integration = files.filter((f) => f.startsWith("tests/"));
  const pieces: Piece[] = [];
  if (files.length > 0) {
    pieces.push({ name: "type check of the test files", command: "check", args: [...files] });
  }
  const noCheck = ["--no-check"];
  if (unit.length > 0) {
    pieces.push({ name: `unit tests (${unit.length} files)`, args: [...noCheck, ...unit] });
  }
  for (const f of integration) pieces.push({ name: f, args: [...noCheck, f] });
  return pieces;
}

/**
 * Counts a `deno test` run's results from its output lines: the summary line when there is one,
 * else the finished tests (`... ok` / `... FAILED`) plus, for a run cut short, every announced test
 * that did not finish as failed.
 */
export class OutputCounter {
  #announced = 0;
  #ok = 0;
  #failed = 0;
  #summary: { passed: number; failed: number } | undefined;
  #rest = "";
  #dec = new TextDecoder();

  push(chunk: Uint8Array): void {
    this.#rest += this.#dec.decode(chunk, { stream: true });
    const lines = this.#rest.split("\n");
    this.#rest = lines.pop()!;
    for (const l of lines) this.line(l);
  }

  line(raw: string): void {
    // deno-lint-ignore no-control-regex
    const l = raw.replace(/\x1b\[[0-9;]*m/g, "");
    const running = /^running (\d+) tests? from /.exec(l);
    if (running) {
      this.#announced += Number(running[1]);
      return;
    }
    const summary = /^(ok|FAILED) \| (\d+) passed.*\| (\d+) failed/.exec(l);
    if (summary) {
      this.#summary = { passed: Number(summary[2]), failed: Number(summary[3]) };
      return;
    }
    // Top-level test results only (steps are indented).
    if (/^\S.* \.\.\. ok \(/.test(l)) this.#ok++;
    else if (/^\S.* \.\.\. FAILED \(/.test(l)) this.#failed++;
  }

  /** The counts; `cutShort` when the run was killed before its summary. */
  result(cutShort: boolean): { passed: number; failed: number } {
    if (this.#rest) this.line(this.#rest), this.#rest = "";
    if (this.#summary && !cutShort) return this.#summary;
    const unfinished = Math.max(0, this.#announced - this.#ok - this.#failed);
    // A run that died before announcing anything still counts as one failure.
    const failed = this.#failed + unfinished + (cutShort && this.#announced === 0 ? 1 : 0);
    return { passed: this.#ok, failed };
  }
}

function fmtMs(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // the group is gone
  }
}

/** Runs one piece in its own process group, echoing its output, killed after `timeoutMs`. */
async function runPiece(
  piece: Piece,
  timeoutMs: number,
  live: Set<number>,
): Promise<PieceResult> {
  const t0 = Date.now();
  // setsid: the piece and every process it starts share one group, so a time-out ends them all.
  const child = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      ...(piece.command === "check" ? ["check"] : ["test", "-A", "--permit-no-files"]),
      ...piece.args,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(child.pid);
  const counter = new OutputCounter();
  const echo = async (
    stream: ReadableStream<Uint8Array>,
    to: typeof Deno.stdout,
    count: boolean,
  ) => {
    for await (const chunk of stream) {
      if (count) counter.push(chunk);
      await to.write(chunk);
    }
  };
  const pumps = Promise.all([
    echo(child.stdout, Deno.stdout, true),
    echo(child.stderr, Deno.stderr, false),
  ]);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    console.log(
      `\n== ${piece.name}: still running after ${fmtMs(timeoutMs)} (TEST_FILE_TIMEOUT_S); ` +
        `killing it and every process it started`,
    );
    killGroup(child.pid);
  }, timeoutMs);
  const status = await child.status;
  clearTimeout(timer);
  // Processes it left behind in its group (a test's children) go too.
  killGroup(child.pid);
  live.delete(child.pid);
  await Promise.race([pumps, new Promise((r) => setTimeout(r, 2000))]).catch(() => {});
  const cutShort = timedOut || status.signal !== null;
  const { passed, failed } = counter.result(cutShort);
  // A non-zero exit without any failed test (a load or type error) is a failure too.
  const extra = status.code !== 0 && failed === 0 ? 1 : 0;
  return {
    name: piece.name,
    passed,
    failed: failed + extra,
    ms: Date.now() - t0,
    timedOut,
  };
}

function envSeconds(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${name} must be a positive number of seconds, got "${raw}"`);
    Deno.exit(2);
  }
  return n * 1000;
}

async function main(args: string[]): Promise<number> {
  const fileTimeout = envSeconds("TEST_FILE_TIMEOUT_S", 900);
  const budget = envSeconds("TEST_BUDGET_S", 4200);
  let servers: LocalServers | undefined;
  if (Deno.env.get("EDU_SERVERS") !== "external") {
    const t0 = Date.now();
    try {
      servers = await ensureLocalServers({ allowForeign: true, log });
    } catch (e) {
      console.error((e as Error).message);
      const tail = (e as { logTail?: string }).logTail;
      if (tail) console.error(tail);
      return 1;
    }
    log.info("servers ready", { ...servers.status, ms: Date.now() - t0 });
  }
  const keep = Deno.env.get("KEEP_SERVERS") === "1";
  const stopIfStarted = async () => {
    if (!servers) return;
    if (keep) {
      if (servers.started) {
        log.info("KEEP_SERVERS=1: leaving the servers running (deno task infra:down stops them)");
      }
      return;
    }
    await servers.stop(); // no-op unless started here (or handed over); never under another user
  };

  const pieces = args.length > 0
    ? [{ name: `deno test ${args.join(" ")}`, args }]
    : planPieces(await findTestFiles());
  const live = new Set<number>();
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    for (const pid of live) killGroup(pid);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const t0 = Date.now();
  const results: PieceResult[] = [];
  for (const piece of pieces) {
    if (interrupted) break;
    if (Date.now() - t0 > budget) {
      console.log(`\n== ${piece.name}: not run, the suite's TEST_BUDGET_S is spent`);
      results.push({ name: piece.name, passed: 0, failed: 1, ms: 0, timedOut: true });
      continue;
    }
    if (pieces.length > 1) console.log(`\n== ${piece.name}`);
    results.push(await runPiece(piece, fileTimeout, live));
  }
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  await stopIfStarted();
  if (interrupted) return 130;

  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  if (results.length > 1) {
    console.log("\n== time per piece (slowest first)");
    for (const r of [...results].sort((a, b) => b.ms - a.ms)) {
      const mark = r.failed > 0 ? (r.timedOut ? "TIMED OUT" : "FAILED") : "ok";
      console.log(
        `${fmtMs(r.ms).padStart(7)}  ${
          mark.padEnd(9)
        } ${r.passed} passed, ${r.failed} failed  ${r.name}`,
      );
    }
  }
  console.log(
    `\n${failed === 0 ? "ok" : "FAILED"} | ${passed} passed | ${failed} failed (${
      fmtMs(Date.now() - t0)
    })`,
  );
  // A piece that exited non-zero counts at least one failure (runPiece), so this covers it.
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
