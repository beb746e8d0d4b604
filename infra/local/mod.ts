/**
 * @module
 * Local Apache Kafka 3.9.1 and Apache Cassandra 5.0.8 for development and tests, from Maven
 * Central jars on JDK 17, no Docker.
 */

export {
  ensureLocalServers,
  type EnsureOptions,
  LocalServerError,
  type LocalServers,
  type ServerStatus,
  startCassandra,
  stopCassandra,
  stopLocalServers,
  type StopServersOptions,
} from "./servers.ts";
export { cassandraJars, kafkaClasspath } from "./jars.ts";
export { java17 } from "./java.ts";
export { type LocalPaths, localPaths, type LocalPorts, localPorts } from "./paths.ts";
export { cpuSeconds, peakRssBytes, rssBytes } from "./process.ts";
export type { ServerName } from "./_server.ts";
