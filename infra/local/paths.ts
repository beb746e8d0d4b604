/**
 * @module
 * Where the local servers keep their jars (a cache outside the repo) and their state (data, logs,
 * pids; `<repo>/.state/local` by default).
 */

/** The repository root (two levels above this file). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Directories used by the local servers; every field has a default from the environment. */
export interface LocalPaths {
  /** Jar cache: `$EDU_CACHE_DIR`, else `${XDG_CACHE_HOME:-$HOME/.cache}/edu-lambda`. */
  cacheDir: string;
  /** State (data, logs, pids, generated configs): `$EDU_STATE_DIR`, else `<repo>/.state/local`. */
  stateDir: string;
}

/** Resolves the cache and state directories from the environment. */
export function localPaths(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): LocalPaths {
  const home = env.HOME ?? "/tmp";
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== ""
    ? env.XDG_CACHE_HOME
    : `${home}/.cache`;
  return {
    cacheDir: env.EDU_CACHE_DIR && env.EDU_CACHE_DIR !== ""
      ? env.EDU_CACHE_DIR
      : `${xdg}/edu-lambda`,
    stateDir: env.EDU_STATE_DIR && env.EDU_STATE_DIR !== ""
      ? env.EDU_STATE_DIR
      : `${REPO_ROOT}/.state/local`,
  };
}
