/**
 * @module
 * Facts read from the repository's code and contracts, against which the manifests are checked:
 * the environment variables the code reads, the `deno task`s, the HTTP paths a layer serves and
 * the variables of CONTRACTS.md §1. Read from source text, so a rename in the code shows up here.
 */
import { TOPIC_KEYS } from "../../shared/config.ts";

const SKIP_DIRS = new Set(["node_modules", ".git", ".state", "data", "outputs", "coverage"]);

/** The TypeScript source files under `dir`, tests excluded. */
export async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return out;
    throw e;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory && !SKIP_DIRS.has(e.name)) out.push(...await sourceFiles(path));
    else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(path);
  }
  return out;
}

const ENV_PATTERNS = [
  /Deno\.env\.get\(\s*["']([A-Z][A-Z0-9_]*)["']\s*\)/g,
  /\benv\.([A-Z][A-Z0-9_]*)\b/g,
  /\benv\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]/g,
  // resolveConfig's helpers: int(env, "NAME", ...), list(env, "NAME", ...), ...
  /\(\s*env\s*,\s*["']([A-Z][A-Z0-9_]*)["']/g,
  // the alias chosen by name in resolveConfig
  /["'](KAFKA_BOOTSTRAP_SERVERS?)["']/g,
];

/**
 * Environment variable names the code reads, from `shared/config.ts` (plus `TOPIC_<KEY>` for every
 * topic key) and every `Deno.env.get("NAME")` under the given source directories.
 * @param root the repository root
 * @param dirs directories (relative to root) whose code runs in the containers
 */
export async function envNamesReadByCode(
  root: string,
  dirs: readonly string[] = ["shared", "processors", "serving", "batch", "infra", "ops"],
): Promise<Set<string>> {
  const names = new Set<string>(TOPIC_KEYS.map((k) => `TOPIC_${k}`));
  for (const dir of dirs) {
    for (const file of await sourceFiles(`${root}/${dir}`)) {
      if (file.includes("/infra/local/")) continue; // development servers, not deployed code
      const text = await Deno.readTextFile(file);
      for (const re of ENV_PATTERNS) for (const m of text.matchAll(re)) names.add(m[1]);
      // A file that reads Deno.env through a helper (`factor("NAME")`): its NAME_LIKE literals.
      if (/Deno\.env\.get\(\s*[a-z]/.test(text)) {
        for (const m of text.matchAll(/["'`]([A-Z][A-Z0-9]*_[A-Z0-9_]+)["'`]/g)) names.add(m[1]);
      }
    }
  }
  return names;
}

/** Task names of deno.json. */
export async function denoTasks(root: string): Promise<Set<string>> {
  const cfg = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  return new Set(Object.keys(cfg.tasks ?? {}));
}

/**
 * The variable names of CONTRACTS.md §1 (its table's first column), `TOPIC_<NAME>` expanded to
 * every topic key.
 */
export function contractEnvNames(contracts: string): string[] {
  const start = contracts.indexOf("## 1.");
  const end = contracts.indexOf("\n## ", start + 1);
  if (start < 0) throw new RangeError("CONTRACTS.md has no section 1");
  const names: string[] = [];
  for (const line of contracts.slice(start, end < 0 ? undefined : end).split("\n")) {
    const m = /^\|\s*`([A-Z][A-Z0-9_<>]*)`/.exec(line);
    if (!m) continue;
    if (m[1] === "TOPIC_<NAME>") names.push(...TOPIC_KEYS.map((k) => `TOPIC_${k}`));
    else names.push(m[1]);
  }
  return names;
}

const ROUTE_PATTERNS = [
  // Hono / router style: app.get("/health", ...), .on("GET", "/ready") , .all("/graphql")
  /\.(?:get|post|all|use|route)\(\s*["'](\/[A-Za-z0-9/_-]*)["']/g,
  /\.on\(\s*(?:["'][A-Z]+["']|\[[^\]]*\])\s*,\s*["'](\/[A-Za-z0-9/_-]*)["']/g,
  // plain Deno.serve handlers: url.pathname === "/health", case "/ready":
  /pathname\s*===?\s*["'](\/[A-Za-z0-9/_-]*)["']/g,
  /case\s+["'](\/[A-Za-z0-9/_-]*)["']\s*:/g,
  // GraphQL Yoga's endpoint option
  /graphqlEndpoint\s*:[^,\n]*?["'](\/[A-Za-z0-9/_-]*)["']/g,
];

/** HTTP paths routed by the code under `dir` (relative to root). */
export async function servedPaths(root: string, dir: string): Promise<string[]> {
  const paths = new Set<string>();
  for (const file of await sourceFiles(`${root}/${dir}`)) {
    const text = await Deno.readTextFile(file);
    for (const re of ROUTE_PATTERNS) for (const m of text.matchAll(re)) paths.add(m[1]);
  }
  return [...paths].sort();
}
