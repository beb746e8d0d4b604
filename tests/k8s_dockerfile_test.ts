/**
 * The Dockerfile and .dockerignore, without a container engine: pinned base image matching the Deno
 * the repository is tested with, dependency layer before the code, non-root user, entry points that
 * exist and whose whole module graph survives .dockerignore, a small build context.
 *
 * One test runs a built image the way the pods do (uid 1993, read-only root filesystem, only /tmp
 * writable, no capabilities). It needs podman or docker and an image named by `EDU_IMAGE` (see
 * docs/OPERATIONS.md, "Image"); without them it is ignored. `CONTAINER_FLAGS` adds engine flags
 * (a VM without CAP_SYS_RESOURCE needs `--runtime runc --ulimit nofile=…` there).
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
  // The official image by default; BASE_IMAGE only swaps in a stand-in (infra/docker/local-base.sh).
  const from = lines.filter((l) => l.startsWith("FROM "));
  assert.deepEqual(from, ["FROM ${BASE_IMAGE}"]);
  assert.equal(lines[0], `ARG BASE_IMAGE=denoland/deno:debian-${Deno.version.deno}`);
  // Build-time CA store: Deno's own default unless a build behind a TLS proxy overrides it.
  assert.ok(lines.includes("ARG DENO_TLS_CA_STORE=mozilla"));
  assert.ok(
    !/ENV[^\n]*DENO_TLS_CA_STORE|DENO_CERT/.test(dockerfile),
    "no CA setting kept in the image",
  );
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

Deno.test(".dockerignore: the build context is the code only (no .state, data, node_modules)", async () => {
  const ignore = (await Deno.readTextFile(`${ROOT}/.dockerignore`)).split("\n").map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  let bytes = 0, files = 0;
  async function walk(rel: string): Promise<void> {
    for await (const e of Deno.readDir(rel ? `${ROOT}/${rel}` : ROOT)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (ignoredBy(ignore, path)) continue;
      if (e.isDirectory) await walk(path);
      else if (e.isFile) {
        bytes += (await Deno.stat(`${ROOT}/${path}`)).size;
        files++;
      }
    }
  }
  await walk("");
  // About 2 MB today; a data directory or a build output slipping in is hundreds of MB.
  assert.ok(
    bytes < 20 * 2 ** 20,
    `build context ${files} files, ${(bytes / 2 ** 20).toFixed(1)} MiB`,
  );
});

Deno.test("infra/docker/local-base.sh: valid sh, builds the base the Dockerfile names", async () => {
  const script = `${ROOT}/infra/docker/local-base.sh`;
  const sh = await new Deno.Command("sh", { args: ["-n", script], stderr: "piped" }).output();
  assert.ok(sh.success, new TextDecoder().decode(sh.stderr));
  const text = await Deno.readTextFile(script);
  assert.match(text, /useradd --uid 1993 --user-group deno/);
  assert.match(text, /ARG BASE_IMAGE=denoland/);
});

function engine(): string | undefined {
  for (const e of ["podman", "docker"]) {
    try {
      if (
        new Deno.Command(e, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
          .success
      ) return e;
    } catch { /* not installed */ }
  }
  return undefined;
}
const IMAGE = Deno.env.get("EDU_IMAGE");
const ENGINE = IMAGE ? engine() : undefined;

Deno.test({
  name: `image: entry points start as the pods run them (${
    IMAGE
      ? ENGINE ? `${ENGINE}, ${IMAGE}` : "ignored: no podman or docker"
      : "ignored: EDU_IMAGE not set"
  })`,
  ignore: !IMAGE || !ENGINE,
  fn: async () => {
    const flags = (Deno.env.get("CONTAINER_FLAGS") ?? "").split(/\s+/).filter(Boolean);
    const run = async (env: string[], ...cmd: string[]) => {
      const out = await new Deno.Command(ENGINE!, {
        args: [
          "run",
          "--rm",
          ...flags,
          "--user",
          "1993:1993",
          "--read-only",
          "--tmpfs",
          "/tmp",
          "--cap-drop",
          "ALL",
          "--security-opt",
          "no-new-privileges",
          "--network",
          "none",
          ...env.flatMap((e) => ["-e", e]),
          IMAGE!,
          ...cmd,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: out.code,
        text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
      };
    };
    const id = await run([], "id", "-u");
    assert.equal(id.text.trim(), "1993");
    for (
      const [task, usage] of [
        ["batch", /Usage: deno task batch/],
        ["process", /Usage: deno task process/],
        ["dlq", /usage: deno task dlq/],
        ["lag", /usage: deno task lag/],
      ] as const
    ) {
      const r = await run([], "deno", "task", task, "--help");
      assert.match(r.text, usage, `${task} --help: ${r.text}`);
    }
    for (
      const [task, variable] of [["serve", "PORT"], ["process", "HEALTH_PORT"], [
        "migrate",
        "CASSANDRA_PORT",
      ]]
    ) {
      const r = await run([`${variable}=abc`], "deno", "task", task);
      assert.notEqual(r.code, 0);
      assert.match(r.text, new RegExp(`Invalid configuration: ${variable}="abc"`), r.text);
    }
    // The hourly CronJob's command: sh, GNU date, DuckDB's native addon, output under /tmp.
    const batch = await run(
      ["DATA_DIR=/tmp/data", "OUTPUTS_DIR=/tmp/outputs"],
      "sh",
      "-c",
      "exec deno task batch --hour \"$(date -u -d '1 hour ago' '+%Y-%m-%d %H:00')\"",
    );
    assert.equal(batch.code, 0, batch.text);
    assert.match(batch.text, /"msg":"batch done"/);
  },
});
