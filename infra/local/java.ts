/**
 * @module
 * Finds a JDK 17 explicitly (Cassandra 5.0 does not run on JDK 24+, and `java` on PATH may be one).
 */

const DEFAULT_JDK17 = "/usr/lib/jvm/java-17-openjdk-amd64";

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function releaseMajor(home: string): number | undefined {
  try {
    const text = Deno.readTextFileSync(`${home}/release`);
    const m = /JAVA_VERSION="(\d+)/.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function candidates(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  if (env.JAVA17_HOME) out.push(env.JAVA17_HOME);
  out.push(DEFAULT_JDK17);
  try {
    const names = [...Deno.readDirSync("/usr/lib/jvm")].map((e) => e.name).sort();
    for (const n of names) if (/(^|[^0-9])17([^0-9]|$)/.test(n)) out.push(`/usr/lib/jvm/${n}`);
  } catch {
    // no /usr/lib/jvm
  }
  return out;
}

let cached: string | undefined;

/**
 * Path of a JDK 17 `java` binary: `$JAVA17_HOME`, else `/usr/lib/jvm/java-17-openjdk-amd64`, else
 * the first JDK 17 under `/usr/lib/jvm`.
 * @throws {Error} when no JDK 17 is found, naming the places looked at
 */
export function java17(env: Record<string, string | undefined> = Deno.env.toObject()): string {
  if (cached) return cached;
  const tried = candidates(env);
  for (const home of tried) {
    const bin = `${home}/bin/java`;
    if (!isFile(bin)) continue;
    const major = releaseMajor(home);
    if (major === undefined || major === 17) return (cached = bin);
  }
  throw new Error(
    `No JDK 17 found (looked at ${tried.join(", ")}); install openjdk-17 or set JAVA17_HOME`,
  );
}
