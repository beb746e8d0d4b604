/**
 * @module
 * Fetches the Kafka and Cassandra jars from Maven Central with `mvn` into the cache directory on
 * first use, and builds classpaths from them afterwards.
 */

import { java17 } from "./java.ts";
import { type LocalPaths, localPaths } from "./paths.ts";

/** A server distribution assembled from Maven artifacts. */
export interface Distribution {
  /** Cache sub-directory name, e.g. `kafka-3.9.1`. */
  name: string;
  /** Human name for progress lines. */
  title: string;
  /** `groupId:artifactId:version` of every top-level dependency. */
  artifacts: string[];
}

export const KAFKA_DIST: Distribution = {
  name: "kafka-3.9.1",
  title: "Apache Kafka 3.9.1",
  artifacts: [
    "org.apache.kafka:kafka_2.13:3.9.1",
    "ch.qos.reload4j:reload4j:1.2.25",
    "org.slf4j:slf4j-reload4j:1.7.36",
  ],
};

/**
 * Kafka 3.9's command-line tools (ConsumerGroupCommand, ConsumerPerformance, …) ship in
 * kafka-tools, which the broker's classpath lacks; fetched on first use like the broker's jars.
 */
export const KAFKA_TOOLS_DIST: Distribution = {
  name: "kafka-tools-3.9.1",
  title: "Apache Kafka tools 3.9.1",
  artifacts: [
    "org.apache.kafka:kafka-tools:3.9.1",
    "ch.qos.reload4j:reload4j:1.2.25",
    "org.slf4j:slf4j-reload4j:1.7.36",
  ],
};

export const CASSANDRA_DIST: Distribution = {
  name: "cassandra-5.0.8",
  title: "Apache Cassandra 5.0.8",
  artifacts: ["org.apache.cassandra:cassandra-all:5.0.8"],
};

const DEPENDENCY_PLUGIN =
  "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies";

/** Options of {@linkcode ensureJars}. */
export interface JarOptions {
  /** Cache and state directories; default {@linkcode localPaths}(). */
  paths?: LocalPaths;
  /** Called with a one-line progress message while downloading; default writes to stderr. */
  progress?: (line: string) => void;
}

function pom(dist: Distribution): string {
  const deps = dist.artifacts.map((a) => {
    const [g, n, v] = a.split(":");
    return `<dependency><groupId>${g}</groupId><artifactId>${n}</artifactId><version>${v}</version></dependency>`;
  });
  return `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>edu.lambda.local</groupId><artifactId>${dist.name}</artifactId><version>1</version>
<packaging>pom</packaging>
<dependencies>
${deps.join("\n")}
</dependencies></project>
`;
}

function listJars(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".jar"))
      .map((e) => `${dir}/${e.name}`).sort();
  } catch {
    return [];
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function defaultProgress(): (line: string) => void {
  const enc = new TextEncoder();
  if (Deno.stderr.isTerminal()) {
    return (line) =>
      Deno.stderr.writeSync(enc.encode(`\r\x1b[2K${line}${line.endsWith("done") ? "\n" : ""}`));
  }
  let last = 0;
  return (line) => {
    if (Date.now() - last < 5000 && !line.includes("done")) return;
    last = Date.now();
    Deno.stderr.writeSync(enc.encode(line + "\n"));
  };
}

async function runMaven(dist: Distribution, dir: string, progress: (l: string) => void) {
  // Per-process names: two processes fetching at once must not share a temp directory.
  const tmp = `${dir}/lib.tmp-${Deno.pid}`;
  const pomFile = `${dir}/pom-${Deno.pid}.xml`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.writeTextFile(pomFile, pom(dist));
  const javaHome = java17().replace(/\/bin\/java$/, "");
  const args = ["-B", "-f", pomFile, DEPENDENCY_PLUGIN, `-DoutputDirectory=${tmp}`];
  args.push("-DincludeScope=runtime");
  const repo = Deno.env.get("EDU_MAVEN_REPO");
  if (repo) args.push(`-Dmaven.repo.local=${repo}`);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("mvn", {
      args,
      env: { JAVA_HOME: javaHome },
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
  } catch (e) {
    throw new Error(`Cannot run mvn to fetch ${dist.title} jars: is Maven installed?`, {
      cause: e,
    });
  }
  const start = Date.now();
  let files = 0;
  let bytes = 0;
  const log = await Deno.open(`${dir}/mvn.log`, { write: true, create: true, truncate: true });
  const show = () =>
    progress(
      `fetching ${dist.title} from Maven Central: ${files} files, ${
        (bytes / 1048576).toFixed(1)
      } MB, ${Math.round((Date.now() - start) / 1000)} s`,
    );
  const timer = setInterval(show, 1000);
  const dec = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream) {
      await log.write(chunk);
      const lines = (rest + dec.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) {
        const m = /Downloaded from \S+: \S+ \(([\d.]+) (B|kB|MB)/.exec(l);
        if (!m) continue;
        files++;
        bytes += Number(m[1]) * (m[2] === "MB" ? 1048576 : m[2] === "kB" ? 1024 : 1);
      }
    }
  };
  try {
    const [status] = await Promise.all([child.status, pump(child.stdout), pump(child.stderr)]);
    if (!status.success) {
      throw new Error(
        `mvn failed (exit ${status.code}) fetching ${dist.title}; see ${dir}/mvn.log`,
      );
    }
  } finally {
    clearInterval(timer);
    log.close();
    await Deno.remove(pomFile).catch(() => {});
  }
  show();
  progress(`fetched ${dist.title}: ${listJars(tmp).length} jars, done`);
  if (exists(`${dir}/.complete`)) {
    await Deno.remove(tmp, { recursive: true }); // another process finished first
    return;
  }
  await Deno.remove(`${dir}/lib`, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, `${dir}/lib`);
  await Deno.writeTextFile(`${dir}/.complete`, new Date().toISOString() + "\n");
}

const inflight = new Map<string, Promise<string[]>>();

/**
 * Jars of a distribution, fetched with `mvn` into `<cacheDir>/<name>/lib` on first use and reused
 * afterwards (a `.complete` marker is written only after a successful fetch).
 * @throws {Error} when mvn is missing or fails, naming its log file
 */
export function ensureJars(dist: Distribution, opts: JarOptions = {}): Promise<string[]> {
  const dir = `${(opts.paths ?? localPaths()).cacheDir}/${dist.name}`;
  if (exists(`${dir}/.complete`)) {
    const jars = listJars(`${dir}/lib`);
    if (jars.length > 0) return Promise.resolve(jars);
  }
  let p = inflight.get(dir);
  if (!p) {
    p = (async () => {
      await Deno.mkdir(dir, { recursive: true });
      await runMaven(dist, dir, opts.progress ?? defaultProgress());
      return listJars(`${dir}/lib`);
    })();
    p.finally(() => inflight.delete(dir)).catch(() => {});
    inflight.set(dir, p);
  }
  return p;
}

/** The Kafka 3.9.1 classpath (jars fetched on first use), for `kafka.Kafka` and Kafka's tools. */
export async function kafkaClasspath(opts: JarOptions = {}): Promise<string> {
  return (await ensureJars(KAFKA_DIST, opts)).join(":");
}

/** The Cassandra 5.0.8 jars (fetched on first use). */
export function cassandraJars(opts: JarOptions = {}): Promise<string[]> {
  return ensureJars(CASSANDRA_DIST, opts);
}
