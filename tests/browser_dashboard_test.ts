/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a running
 * platform on an isolated configuration: past hours in the archive and published by the batch
 * job, a burst of live records (malformed and late ones included) through Kafka and the stream
 * processors, and `deno task serve`. The page must load without any request leaving localhost,
 * draw data in both charts, and show exactly what GraphQL (and Kafka for the dead letters)
 * answers; GraphiQL at /graphql must load and run a query. Screenshots go to `.state/screenshots/`.
 *
 * Chromium is installed with apt-get when it is missing (set CHROMIUM_PATH to use another one).
 */
import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { TOPIC_KEYS } from "../shared/config.ts";
import { createKafka } from "../shared/kafka.ts";
import { createCassandraClient } from "../shared/cassandra.ts";
import { dlqTopic } from "../shared/config.ts";
import { floorHour, floorMinute, HOUR_MS, MINUTE_MS, toIso } from "../shared/time.ts";
import { generate } from "../generator/generate.ts";
import { createPopulation } from "../generator/population.ts";
import { produceRecords } from "../generator/produce.ts";
import { runBackfill } from "../dev/backfill.ts";
import { type Child, startChild, stopChild } from "../dev/children.ts";
import { ensureServers, isolatedTestEnv } from "./_servers.ts";

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const SHOTS = `${REPO}/.state/screenshots`;

async function executable(path: string): Promise<boolean> {
  try {
    const st = await Deno.stat(path);
    return st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(cmd, {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

/** The Chromium binary: CHROMIUM_PATH, or Debian's, installed with apt-get when missing. */
async function ensureChromium(): Promise<string> {
  const given = Deno.env.get("CHROMIUM_PATH");
  if (given) {
    if (await executable(given)) return given;
    throw new Error(`CHROMIUM_PATH=${given} is not an executable file`);
  }
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    if (await executable(p)) return p;
  }
  if (!(await executable("/usr/bin/apt-get"))) {
    throw new Error(
      "Chromium is not installed and apt-get is not available: install Chromium " +
        "(Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to its binary",
    );
  }
  console.log("Chromium is missing: apt-get update && apt-get install -y chromium");
  const update = await run("apt-get", ["update", "-qq"]);
  if (update.code !== 0) {
    throw new Error(`apt-get update failed (exit ${update.code}):\n${update.out.slice(-2000)}`);
  }
  const install = await run("apt-get", ["install", "-y", "-qq", "chromium"]);
  if (install.code !== 0) {
    throw new Error(
      `apt-get install chromium failed (exit ${install.code}; root is needed):\n${
        install.out.slice(-2000)
      }`,
    );
  }
  if (await executable("/usr/bin/chromium")) return "/usr/bin/chromium";
  throw new Error("apt-get installed chromium but /usr/bin/chromium is not there");
}

function freePort(): number {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function gql(port: number, query: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://localhost:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 180_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

async function dlqMessages(env: ReturnType<typeof isolatedTestEnv>): Promise<number> {
  const admin = createKafka(env.cfg, "browser-test", { logLevel: "nothing" }).admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    let n = 0;
    for (const k of TOPIC_KEYS) {
      const t = dlqTopic(env.cfg.topics[k]);
      if (!present.has(t)) continue;
      for (const o of await admin.fetchTopicOffsets(t)) n += Number(o.high) - Number(o.low);
    }
    return n;
  } finally {
    await admin.disconnect();
  }
}

async function lateInCassandra(env: ReturnType<typeof isolatedTestEnv>, since: string) {
  const client = createCassandraClient(env.cfg);
  try {
    const rs = await client.execute(
      `SELECT "late" FROM late_events WHERE "view" = ? AND "hour" >= ?`,
      ["video_views", new Date(since)],
      { prepare: true },
    );
    return rs.rows.reduce((n, r) => n + Number(r.get("late")), 0);
  } finally {
    await client.shutdown();
  }
}

function testValue(page: Page, testId: string): Promise<string | null> {
  return page.getAttribute(`[data-testid="${testId}"]`, "data-value");
}

Deno.test({
  name: "dashboard shows the platform's GraphQL figures in a browser; GraphiQL runs a query",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const executablePath = await ensureChromium();
  await ensureServers();
  const port = freePort();
  const env = isolatedTestEnv({
    env: { PORT: String(port), HEALTH_PORT: String(freePort()), FLUSH_INTERVAL_MS: "250" },
  });
  await env.setup();
  const children: Child[] = [];
  let browser: BrowserContext | undefined;
  const logs = await Deno.makeTempDir({ prefix: "edu-browser-logs-" });
  try {
    const now = Date.now();
    const hourNow = floorHour(now);
    const window = { startMs: hourNow - 5 * HOUR_MS, endMs: hourNow - HOUR_MS };
    const population = createPopulation({
      seed: 21,
      users: 400,
      courses: 8,
      startMs: window.startMs,
      endMs: window.endMs,
    });

    await t.step("past hours archived and published by the batch job", async () => {
      await runBackfill(env.cfg, { window, population, seed: 21, eventsPerSec: 3 });
      // Hour by hour: a date run would also publish the (empty) ended hours after the window.
      for (let h = window.startMs; h < window.endMs; h += HOUR_MS) {
        const hour = `${toIso(h).slice(0, 10)} ${toIso(h).slice(11, 13)}:00`;
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "batch/main.ts", "--hour", hour],
          cwd: REPO,
          env: env.env,
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      }
    });

    let malformed = 0;
    let late = 0;
    await t.step("live records through Kafka and the stream processors", async () => {
      children.push(
        await startChild("processors", `${logs}/processors.log`, {
          args: ["run", "-A", "processors/main.ts"],
          cwd: REPO,
          env: env.env,
        }),
        await startChild("serving", `${logs}/serving.log`, {
          args: ["run", "-A", "serving/main.ts"],
          cwd: REPO,
          env: env.env,
        }),
      );
      const start = now - 40 * MINUTE_MS;
      const records = [
        ...generate({
          seed: 22,
          population,
          startMs: start,
          endMs: now,
          eventsPerSecond: 15,
          cdcSnapshot: false,
          tooLarge: false,
          now,
        }),
      ].filter((r) => r.kafkaTs <= now);
      const sent = await produceRecords(env.cfg, records);
      assert.equal(sent.refused.length, 0);
      malformed = records.filter((r) => r.kind === "malformed").length;
      // What the speed layer applies: valid and out-of-order app events (late ones are left to
      // the batch layer, re-sent duplicates count once).
      const appEvents = records.filter((r) =>
        r.topic === "APP_EVENTS" && (r.kind === "valid" || r.kind === "out_of_order")
      ).length;
      late = records.filter((r) =>
        r.kind === "late" && r.topic === "VIDEO"
      ).length;
      assert.ok(malformed > 0 && sent.sent > 5_000, `${sent.sent} sent, ${malformed} malformed`);
      await waitFor("the serving layer", async () => {
        const r = await fetch(`http://localhost:${port}/health`);
        await r.body?.cancel();
        return r.ok ? true : undefined;
      });
      // Everything processed: every malformed record dead-lettered, no lag on any partition,
      // every app event in the realtime views, and the course and assessment views settled.
      const range = `from: "${toIso(floorMinute(start))}", to: "${
        toIso(floorMinute(now) + MINUTE_MS)
      }"`;
      let shown = -1;
      await waitFor("the processors to catch up", async () => {
        if ((await dlqMessages(env)) < malformed) return undefined;
        const d = await gql(
          port,
          `{ servingStatus { lag { lag } } eventCounts(${range}, granularity: MINUTE) { total } }`,
        ) as { servingStatus: { lag: { lag: number }[] }; eventCounts: { total: number } };
        shown = d.eventCounts.total;
        return d.servingStatus.lag.length > 0 && d.servingStatus.lag.every((l) => l.lag === 0) &&
            shown === appEvents
          ? true
          : undefined;
      }).catch((e) => {
        throw new Error(`${e.message} (app events shown ${shown}, produced ${appEvents})`);
      });
      const signature = async () => {
        const parts = [];
        for (const c of population.courses) {
          const q =
            `{ c: courseEngagement(courseId: "${c.id}", ${range}) { total { enrollments unenrollments completions activeUsers } } ${
              c.assessments.map((a, i) =>
                `a${i}: assessmentScores(assessmentId: "${a.id}", ${range}) { total { graded avgPercent } }`
              ).join(" ")
            } }`;
          parts.push(JSON.stringify(await gql(port, q)));
        }
        return parts.join();
      };
      let previous = "";
      let stable = 0;
      await waitFor("the course and assessment views to settle", async () => {
        const now = await signature();
        stable = now === previous ? stable + 1 : 0;
        previous = now;
        return stable >= 3 ? true : undefined;
      });
      assert.equal(await dlqMessages(env), malformed);
    });

    let page: Page;
    const offsite: string[] = [];
    await t.step("the page loads offline and both charts show data", async () => {
      const profile = await Deno.makeTempDir({ prefix: "edu-chromium-" });
      browser = await chromium.launchPersistentContext(profile, {
        executablePath,
        viewport: { width: 1400, height: 900 },
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      page = await browser.newPage();
      await page.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "localhost" || url.hostname === "127.0.0.1") return route.continue();
        offsite.push(url.href);
        return route.abort();
      });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`http://localhost:${port}/`);
      // The page's own state and DOM (a string: it runs in the browser, not in Deno).
      await page.waitForFunction(
        `(() => {
          const s = globalThis.__dashboard?.state;
          const points = (id) => Number(document.getElementById(id)?.dataset.points ?? 0);
          return s?.hours && s.minutes && s.courses?.rows.length > 0 &&
            s.assessments?.rows.length > 0 && s.api?.dlq?.ok &&
            points("chart-hours") > 0 && points("chart-minutes") > 0;
        })()`,
        undefined,
        { timeout: 120_000 },
      );
      // One more full refresh now that the data no longer changes, then compare.
      // deno-lint-ignore no-explicit-any
      await page.evaluate(() => (globalThis as any).__dashboard.refresh());
      assert.deepEqual(errors, []);
      assert.deepEqual(offsite, [], "the page asked for something outside localhost");
      assert.equal(await page.isVisible("#errors"), false, await page.textContent("#errors") ?? "");
      // The charts are drawn: uPlot canvases of the container's size.
      for (const id of ["chart-minutes", "chart-hours"]) {
        const box = await page.locator(`#${id} canvas`).boundingBox();
        assert.ok(box && box.width > 300 && box.height > 100, `${id}: ${JSON.stringify(box)}`);
      }
      await Deno.mkdir(SHOTS, { recursive: true });
      await page.screenshot({ path: `${SHOTS}/dashboard.png`, fullPage: true });
      // The log scale redraws the hourly chart from the same answer.
      await page.check("#hours-log");
      const box = await page.locator("#chart-hours canvas").boundingBox();
      assert.ok(box && box.width > 300, JSON.stringify(box));
      assert.equal(await page.locator("#chart-hours canvas").count(), 1);
      await page.screenshot({ path: `${SHOTS}/dashboard-log.png`, fullPage: true });
      await page.uncheck("#hours-log");
      assert.deepEqual(errors, []);
    });

    await t.step(
      "hourly chart: BATCH before batchThrough, REALTIME after, as GraphQL",
      async () => {
        const from = await page.getAttribute("#chart-hours", "data-from");
        const to = await page.getAttribute("#chart-hours", "data-to");
        const answer = (await gql(
          port,
          `{ eventCounts(from: "${from}", to: "${to}", granularity: HOUR) { total points { start end source count } provenance { batchThrough realtimeWatermark freshnessMs complete gaps { start end } } } servingStatus { batchThrough realtimeWatermark lag { topic partition lag } } }`,
        )) as {
          eventCounts: { total: number; points: { source: string; count: number }[] };
          servingStatus: { batchThrough: string; lag: { lag: number }[] };
        };
        assert.equal(Number(await testValue(page, "hours-total")), answer.eventCounts.total);
        // deno-lint-ignore no-explicit-any
        const shown = await page.evaluate(() => (globalThis as any).__dashboard.state.hours.points);
        assert.deepEqual(shown, answer.eventCounts.points);
        const batch = answer.eventCounts.points.filter((p) => p.source === "BATCH");
        const realtime = answer.eventCounts.points.filter((p) => p.source === "REALTIME");
        assert.ok(batch.some((p) => p.count > 0) && realtime.some((p) => p.count > 0));
        assert.equal(answer.servingStatus.batchThrough, toIso(window.endMs));
        assert.equal(await testValue(page, "batch-through"), answer.servingStatus.batchThrough);
        const lag = answer.servingStatus.lag.reduce((n, l) => n + l.lag, 0);
        assert.equal(Number(await testValue(page, "lag-total")), lag);
      },
    );

    await t.step("minute chart and totals equal GraphQL's MINUTE answer", async () => {
      const from = await page.getAttribute("#chart-minutes", "data-from");
      const to = await page.getAttribute("#chart-minutes", "data-to");
      assert.equal(Date.parse(to!) - Date.parse(from!), 60 * MINUTE_MS);
      assert.ok(Date.parse(to!) >= floorMinute(now));
      const answer = (await gql(
        port,
        `{ eventCounts(from: "${from}", to: "${to}", granularity: MINUTE) { total points { start end source count } } }`,
      )) as { eventCounts: { total: number; points: unknown[] } };
      assert.ok(answer.eventCounts.total > 0);
      assert.equal(Number(await testValue(page, "minutes-total")), answer.eventCounts.total);
      // deno-lint-ignore no-explicit-any
      const shown = await page.evaluate(() => (globalThis as any).__dashboard.state.minutes.points);
      assert.deepEqual(shown, answer.eventCounts.points);
    });

    await t.step(
      "top courses: the highest activeUsers of all courses, figures as GraphQL",
      async () => {
        const table = page.locator('[data-testid="courses"]');
        const from = await table.getAttribute("data-from");
        const to = await table.getAttribute("data-to");
        const api = await (await fetch(`http://localhost:${port}/api/dashboard`)).json();
        const all = [];
        for (const id of api.entities.ok.courses as string[]) {
          const r = (await gql(
            port,
            `{ courseEngagement(courseId: "${id}", from: "${from}", to: "${to}") { courseId total { enrollments unenrollments completions activeUsers } } }`,
          )).courseEngagement as {
            courseId: string;
            total: Record<string, number>;
          };
          all.push(r);
        }
        assert.ok(all.length >= 5, `courses known: ${all.length}`);
        all.sort((a, b) =>
          b.total.activeUsers - a.total.activeUsers || b.total.enrollments - a.total.enrollments ||
          a.courseId.localeCompare(b.courseId)
        );
        const rows = await page.locator("#courses-body tr[data-course]").all();
        assert.deepEqual(
          await Promise.all(rows.map((r) => r.getAttribute("data-course"))),
          all.slice(0, 10).map((c) => c.courseId),
        );
        for (const [i, row] of rows.entries()) {
          for (const f of ["activeUsers", "enrollments", "completions", "unenrollments"]) {
            const v = await row.locator(`[data-field="${f}"]`).getAttribute("data-value");
            assert.equal(Number(v), all[i].total[f], `${all[i].courseId}.${f}`);
          }
        }
      },
    );

    await t.step("assessment score distribution equals GraphQL's assessmentScores", async () => {
      const table = page.locator('[data-testid="assessments"]');
      const from = await table.getAttribute("data-from");
      const to = await table.getAttribute("data-to");
      const rows = await page.locator("#assessments-body tr[data-assessment]").all();
      assert.ok(rows.length > 0);
      for (const row of rows) {
        const id = await row.getAttribute("data-assessment");
        const r = (await gql(
          port,
          `{ assessmentScores(assessmentId: "${id}", from: "${from}", to: "${to}") { total { graded avgPercent p50Percent p95Percent } } }`,
        )).assessmentScores as { total: Record<string, number> };
        for (const f of ["graded", "avgPercent", "p50Percent", "p95Percent"]) {
          const v = await row.locator(`[data-field="${f}"]`).getAttribute("data-value");
          assert.equal(Number(v), r.total[f], `${id}.${f}`);
        }
        assert.ok(r.total.graded > 0);
      }
    });

    await t.step("dead letters and late events are Kafka's and Cassandra's counts", async () => {
      assert.equal(Number(await testValue(page, "dlq-total")), malformed);
      const api = await (await fetch(`http://localhost:${port}/api/dashboard`)).json();
      assert.equal(Number(await testValue(page, "late-total")), api.late.ok.total);
      const lateVideo = await lateInCassandra(env, api.lateSince);
      const shownVideo = await page.getAttribute('[data-testid="late-video_views"]', "data-value")
        .catch(() => null);
      assert.equal(Number(shownVideo ?? 0), lateVideo);
      // Every generated late video event was counted late by the video_views job.
      assert.ok(lateVideo >= late, `late video events: ${lateVideo} counted, ${late} generated`);
    });

    await t.step("GraphiQL at /graphql loads offline and runs a query", async () => {
      const gq = await browser!.newPage();
      await gq.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "localhost" || url.hostname === "127.0.0.1") return route.continue();
        offsite.push(url.href);
        return route.abort();
      });
      const query = "{ servingStatus { batchThrough realtimeWatermark } }";
      await gq.goto(`http://localhost:${port}/graphql?query=${encodeURIComponent(query)}`);
      await gq.waitForSelector(".graphiql-execute-button", { timeout: 60_000 });
      await gq.click(".graphiql-execute-button");
      await gq.waitForFunction(
        `document.querySelector(".graphiql-response")?.textContent?.includes('"batchThrough"')`,
        undefined,
        { timeout: 60_000 },
      );
      const text = await gq.locator(".graphiql-response").textContent();
      // Monaco renders the JSON with non-breaking spaces; the value is what matters.
      const m = /"batchThrough":\s*"([^"]+)"/.exec((text ?? "").replaceAll("\u00a0", " "));
      assert.equal(m?.[1], toIso(window.endMs), text ?? "");
      await gq.screenshot({ path: `${SHOTS}/graphiql.png` });
      assert.deepEqual(offsite, [], "GraphiQL asked for something outside localhost");
    });
  } finally {
    await browser?.close().catch(() => {});
    for (const c of children) await stopChild(c, 20_000);
    for (const c of children) {
      const code = await c.exited;
      if (code !== 0) console.error(`${c.name} exited ${code}; log ${c.logFile}`);
    }
    await env.cleanup();
  }
});
