/**
 * @module
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time per area (a package of
 * node_modules, a folder of this repository, the runtime itself, garbage collection, idle) and per
 * function, to say where the time goes.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one area or function. */
export interface ProfileEntry {
  name: string;
  ms: number;
  share: number;
}

/** Where the time went. */
export interface ProfileSummary {
  totalMs: number;
  /** Self time by area, largest first. */
  areas: ProfileEntry[];
  /** Self time by function, largest first (top 25). */
  functions: ProfileEntry[];
}

/** The area of a script URL: an npm package, a repo folder, or the runtime. */
export function areaOf(url: string, functionName: string): string {
  if (functionName === "(garbage collector)") return "(gc)";
  if (functionName === "(idle)") return "(idle)";
  if (functionName === "(program)") return "(program)";
  const npm = /node_modules\/\.deno\/([^/]+?)@[^/]+\/node_modules\//.exec(url);
  if (npm) return `npm:${npm[1]}`;
  const repo = /\/work\/main\/(.+)$/.exec(url) ??
    /file:\/\/.*?\/((?:processors|shared|generator)\/.+)$/.exec(url);
  if (repo) {
    const parts = repo[1].split("/");
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith("ext:") || url.startsWith("node:")) return "deno runtime (ext:/node:)";
  if (url === "") return "(native/builtin)";
  return url.split("/").slice(-2).join("/");
}

/** Reads and summarises a profile file. */
export async function summarizeProfile(path: string): Promise<ProfileSummary> {
  const p = JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  let total = 0;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += ms;
    const { functionName, url, lineNumber } = n.callFrame;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const fn = `${functionName || "(anonymous)"} ${url.split("/").slice(-1)[0]}:${lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + ms);
  }
  const list = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => ({
      name,
      ms: Math.round(ms),
      share: total > 0 ? ms / total : 0,
    }));
  return { totalMs: Math.round(total), areas: list(areas, 20), functions: list(fns, 25) };
}
