/**
 * @module
 * The state of one `deno task dev` run shared by its steps: configuration, printer, stop signal,
 * the children started so far and the local servers.
 */
import type { ResolvedConfig } from "../shared/config.ts";
import type { LocalServers } from "../infra/local/mod.ts";
import type { Child } from "./children.ts";
import type { ResolvedDevConfig } from "./config.ts";
import type { Printer } from "./ui.ts";

/** The repository root (children run there). */
export const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
/** Every process this run starts carries `EDU_DEV_RUN=<id>`, so leftovers can be found. */
export const MARKER_VAR = "EDU_DEV_RUN";

/** Thrown by a step when Ctrl-C was pressed. */
export class Stopped extends Error {
  constructor() {
    super("stopped");
    this.name = "Stopped";
  }
}

/** One run. */
export interface Run {
  cfg: ResolvedConfig;
  dev: ResolvedDevConfig;
  out: Printer;
  signal: AbortSignal;
  runId: string;
  children: Child[];
  servers?: LocalServers;
  live?: Promise<unknown>;
}

/** @throws {Stopped} once the run is being stopped */
export function check(run: Run): void {
  if (run.signal.aborted) throw new Stopped();
}
