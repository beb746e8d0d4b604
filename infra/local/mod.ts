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
export { type LocalPaths, localPaths } from "./paths.ts";
export { CASSANDRA_HOST, CASSANDRA_PORT } from "./cassandra_server.ts";
export { KAFKA_HOST, KAFKA_PORT } from "./kafka_server.ts";
export { rssBytes } from "./process.ts";
export type { ServerName } from "./_server.ts";
