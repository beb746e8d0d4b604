/**
 * `deno task dev` end to end on an isolated configuration (own topics, keyspace, directories and
 * ports; the shared local Kafka and Cassandra): the first run puts a past day into the archive,
 * publishes it and serves it; the printed example `curl` commands answer without errors; the
 * dashboard is served; Ctrl-C (SIGINT) stops everything it started, leaving no process behind;
 * a second run skips the past days and starts again; Ctrl-C in the middle of the past days leaves
 * the archive empty and nothing running.
 */
import assert from "node:assert/strict";
import { processesWithEnv } from "../dev/children.ts";
import { ensureServers, isolatedTestEnv, randomId } from "./_servers.ts";

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

function freePort(): number {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A running `deno task dev` with its output collected. */
class DevRun {
  readonly proc: Deno.ChildProcess;
  output = "";
  #done: Promise<void>;

  constructor(env: Record<string, string>, args: string[] = []) {
    this.proc = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "dev/main.ts", ...args],
      cwd: REPO,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const dec = new TextDecoder();
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const c of s) this.output += dec.decode(c, { stream: true });
    };
    this.#done = Promise.all([pump(this.proc.stdout), pump(this.proc.stderr)]).then(() => {});
  }

  async waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = this.output.match(re);
      if (m) return m;
      if (/✗ /.test(this.output)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`no ${re} in the output of deno task dev:\n${this.output}`);
  }

  async interrupt(): Promise<number> {
    this.proc.kill("SIGINT");
    const { code } = await this.proc.status;
    await this.#done;
    return code;
  }
}

async function runCurl(line: string): Promise<Record<string, unknown>> {
  const out = await new Deno.Command("bash", { args: ["-c", line], stdout: "piped" }).output();
  assert.equal(out.code, 0, line);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test({
  name: "deno task dev runs the platform, answers the printed queries and Ctrl-C leaves nothing",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await ensureServers();
  // The runs decide their past days from the UTC date: one run on each side of midnight would see
  // different days. Near midnight, start after it (at most a few minutes of waiting).
  const sinceMidnight = Date.now() % 86_400_000;
  if (sinceMidnight > 86_400_000 - 300_000 || sinceMidnight < 60_000) {
    const wait = (86_400_000 - sinceMidnight + 60_000) % 86_400_000;
    console.log(`near midnight UTC: starting in ${Math.ceil(wait / 1000)} s`);
    await new Promise((r) => setTimeout(r, wait));
  }
  const mark = randomId();
  const port = freePort();
  const env = isolatedTestEnv({
    env: {
      PORT: String(port),
      HEALTH_PORT: String(freePort()),
      ORCH_HEALTH_PORT: String(freePort()),
      APP_ENV: "development",
      DEV_DAYS_BACK: "1",
      DEV_BACKFILL_EVENTS_PER_SEC: "0.3",
      DEV_EVENTS_PER_SEC: "30",
      DEV_USERS: "300",
      EDU_DEV_TEST_MARK: mark,
    },
  });
  env.env.DEV_LOG_DIR = `${env.tmpDir}/logs`;
  const childEnv = { ...Deno.env.toObject(), ...env.env };
  try {
    await t.step("first run: past day, batch, platform, example queries, dashboard", async () => {
      const dev = new DevRun(childEnv);
      try {
        await dev.waitFor(/✓ past days: [\d,]+ records produced/, 300_000);
        await dev.waitFor(/✓ batch views of \d+ days published/, 600_000);
        await dev.waitFor(/Ctrl-C stops everything/, 300_000);
        const curls = dev.output.split("\n").map((l) => l.trim()).filter((l) =>
          l.startsWith("curl ")
        );
        assert.equal(curls.length, 3, dev.output);
        for (const c of curls) {
          assert.ok(c.includes(`http://localhost:${port}/graphql`), c);
          const body = await runCurl(c);
          assert.equal(body.errors, undefined, `${c}\n${JSON.stringify(body.errors)}`);
          assert.ok(body.data && Object.values(body.data).every((v) => v !== null), c);
        }
        const html = await (await fetch(`http://localhost:${port}/`)).text();
        assert.match(html, /<title>Education platform: live dashboard<\/title>/);
        const status = await (await fetch(`http://localhost:${port}/api/dashboard`)).json();
        assert.ok(status.entities.ok.courses.length > 0, JSON.stringify(status));
      } finally {
        assert.equal(await dev.interrupt(), 0, dev.output);
      }
      assert.match(dev.output, /✓ everything this run started has stopped/);
      assert.deepEqual(processesWithEnv("EDU_DEV_TEST_MARK", mark), [], "processes left behind");
    });

    await t.step("second run: past days skipped, platform up again, Ctrl-C clean", async () => {
      const dev = new DevRun(childEnv);
      try {
        await dev.waitFor(/✓ past days: .* already in the archive/, 120_000);
        await dev.waitFor(/✓ batch views of the past days: published/, 60_000);
        const ready = await dev.waitFor(/✓ ready in ([^\n]+)/, 300_000);
        console.log(`second run ready in ${ready[1]}`);
        const res = await fetch(`http://localhost:${port}/health`);
        await res.body?.cancel();
        assert.equal(res.status, 200);
      } finally {
        assert.equal(await dev.interrupt(), 0, dev.output);
      }
      assert.deepEqual(processesWithEnv("EDU_DEV_TEST_MARK", mark), [], "processes left behind");
    });

    await t.step(
      "Ctrl-C during the past days: nothing half-written, nothing left running",
      async () => {
        const dev = new DevRun({ ...childEnv, DEV_BACKFILL_EVENTS_PER_SEC: "5" }, ["--reset"]);
        await dev.waitFor(/past days: \d+ %/, 300_000);
        assert.equal(await dev.interrupt(), 0, dev.output);
        assert.match(dev.output, /! interrupted/);
        assert.match(dev.output, /✓ everything this run started has stopped/);
        assert.deepEqual(processesWithEnv("EDU_DEV_TEST_MARK", mark), [], "processes left behind");
        const left = [];
        for await (const e of Deno.readDir(env.cfg.dataDir)) left.push(e.name);
        assert.deepEqual(left, [], "the archive must stay empty after an interrupted backfill");
      },
    );
  } finally {
    for (const pid of processesWithEnv("EDU_DEV_TEST_MARK", mark)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    await env.cleanup();
  }
});
