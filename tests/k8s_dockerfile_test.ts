/**
 * The Dockerfile and .dockerignore (the image cannot be built here: no Docker daemon): pinned base
 * image matching the Deno the repository is tested with, dependency layer before the code,
 * non-root user, entry points that exist and whose whole module graph survives .dockerignore.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const dockerfile = Deno.readTextFileSync(`${ROOT}/Dockerfile`);
const lines = dockerfile.replace(/\\\n/g, " ").split("\n").map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

function ignoredBy(patterns: string[], path: string): boolean {
  return patterns.some((p) => {
    const re = new RegExp(
      "^" + p.replace(/[.+^${}()|[\]]/g, "\\$&").replace(/\*\*\//g, "(.*/)?").replace(
        /\*/g,
        "[^/]*",
      ) + "(/.*)?$",
    );
    return re.test(path);
  });
}

Deno.test("Dockerfile: pinned denoland/deno base of the tested Deno version, non-root, deps first", () => {
  const from = lines.filter((l) => l.startsWith("FROM "));
  assert.deepEqual(from, [`FROM denoland/deno:debian-${Deno.version.deno}`]);
  const copyDeps = lines.findIndex((l) => l === "COPY deno.json deno.lock ./");
  const install = lines.findIndex((l) => l === "RUN deno install --frozen");
  const copyAll = lines.findIndex((l) => l === "COPY . .");
  assert.ok(copyDeps >= 0 && copyDeps < install && install < copyAll, "dependency layer first");
  assert.equal(lines.filter((l) => l.startsWith("USER ")).at(-1), "USER deno");
  assert.match(dockerfile, /DENO_DIR=\/deno-dir/);
});

Deno.test("Dockerfile: the entry points exist, are the deno tasks' modules, and nothing they import is docker-ignored", async () => {
  const cached = lines.find((l) => l.startsWith("RUN deno install --frozen --entrypoint"))!;
  const entries = cached.split("&&")[0].split(/\s+/).filter((w) => w.endsWith(".ts"));
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks as Record<
    string,
    string
  >;
  for (const t of ["process", "serve", "batch", "migrate", "dlq", "lag"]) {
    const file = tasks[t].split(/\s+/).find((w) => w.endsWith(".ts"));
    assert.ok(file && entries.includes(file), `deno task ${t} (${file}) is cached in the image`);
  }
  const ignore = (await Deno.readTextFile(`${ROOT}/.dockerignore`)).split("\n").map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  for (const p of [".git", "node_modules", ".state", "data", "outputs"]) {
    assert.ok(ignore.includes(p), `.dockerignore has ${p}`);
  }
  for (const entry of entries) {
    assert.ok(
      (await Deno.stat(`${ROOT}/${entry}`).catch(() => undefined))?.isFile,
      `${entry} exists (the image build caches and type-checks it)`,
    );
    const info = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", `${ROOT}/${entry}`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(
      info.success,
      `${entry} exists and resolves: ${new TextDecoder().decode(info.stderr)}`,
    );
    const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
      modules: { specifier: string; error?: string }[];
    };
    for (const m of graph.modules) assert.equal(m.error, undefined, `${entry}: ${m.specifier}`);
    const local = graph.modules.map((m) => m.specifier).filter((s) =>
      s.startsWith(`file://${ROOT}/`)
    )
      .map((s) => s.slice(`file://${ROOT}/`.length));
    assert.ok(local.length > 0);
    for (const f of local) {
      assert.ok(!ignoredBy(ignore, f), `${entry} imports ${f}, which .dockerignore drops`);
    }
  }
  assert.ok(ignoredBy(ignore, "tests/_servers.ts") && ignoredBy(ignore, "shared/x_test.ts"));
  assert.ok(!ignoredBy(ignore, "shared/config.ts"));
});
