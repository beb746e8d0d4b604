/**
 * @module
 * What the orchestrator needs to know about one local server.
 */

import type { LocalPaths } from "./paths.ts";

export type ServerName = "kafka" | "cassandra";

/** One local server (Kafka or Cassandra): where its files are and how to start and probe it. */
export interface ServerDef {
  name: ServerName;
  /** Human name, e.g. "Kafka". */
  title: string;
  host: string;
  /** The client port (9092, 9042). */
  clientPort: number;
  /** Every port the server binds, client port first. */
  ports: number[];
  /** Exact command-line argument that marks the process as ours (includes the state dir). */
  marker: string;
  pidFile: string;
  logFile: string;
  /** Everything `--fresh` wipes. */
  dataDir: string;
  /** Fetches jars, renders configs, prepares storage; returns the command to launch. */
  prepare(): Promise<{ command: string; args: string[] }>;
  /** Resolves true when a client can use the server now (short time-outs, never throws). */
  ready(): Promise<boolean>;
  /** Optional one-time work after a start, before clients are told it is ready (never throws). */
  warmUp?(): Promise<void>;
}

/** Files shared by both servers under the state directory. */
export function stateFiles(paths: LocalPaths, name: ServerName) {
  const s = paths.stateDir;
  return {
    dir: `${s}/${name}`,
    dataDir: `${s}/${name}/data`,
    confDir: `${s}/${name}/conf`,
    logFile: `${s}/logs/${name}.log`,
    pidFile: `${s}/pids/${name}.pid`,
    marker: `-Dedu.lambda.local=${name}:${s}`,
  };
}
