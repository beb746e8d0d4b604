/**
 * @module
 * The local Cassandra 5.0.8: single node on 127.0.0.1:9042 by default, started on JDK 17 with the flags of
 * Cassandra's `conf/jvm17-server.options` and the fast-start properties used by embedders.
 */

import { Client } from "cassandra-driver";
import { java17 } from "./java.ts";
import { cassandraJars } from "./jars.ts";
import type { LocalPaths, LocalPorts } from "./paths.ts";
import { renderFile } from "./render.ts";
import { type ServerDef, stateFiles } from "./_server.ts";

export const CASSANDRA_HOST = "127.0.0.1";

/**
 * GC and JPMS flags of `conf/jvm17-server.options` (Cassandra 5.0). Heap up to 1 GB; it starts at
 * 256 MB because a full-size initial heap ends up resident (~1.45 GB RSS instead of ~0.7 GB).
 */
const JVM_FLAGS = [
  "-Xms256M",
  "-Xmx1G",
  "-Xss256k",
  "-XX:+UseG1GC",
  "-XX:+ParallelRefProcEnabled",
  "-XX:MaxTenuringThreshold=1",
  "-XX:G1HeapRegionSize=16m",
  "-XX:G1RSetUpdatingPauseTimePercent=5",
  "-XX:MaxGCPauseMillis=300",
  "-XX:InitiatingHeapOccupancyPercent=70",
  "-XX:+PerfDisableSharedMem",
  "-XX:+ExitOnOutOfMemoryError",
  "-Djava.awt.headless=true",
  "-Djava.net.preferIPv4Stack=true",
  "-Djava.security.manager=allow",
  "-Djdk.attach.allowAttachSelf=true",
  "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
  "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
  "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
  "--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
  "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
  "--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
  "--add-exports=java.sql/java.sql=ALL-UNNAMED",
  "--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
  "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
  "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
  "--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED",
  "--add-opens=java.base/java.lang.module=ALL-UNNAMED",
  "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
  "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
  "--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
  "--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
  "--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
  "--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
  "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
  "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
  "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
  "--add-opens=java.base/java.io=ALL-UNNAMED",
  "--add-opens=java.base/java.nio=ALL-UNNAMED",
  "--add-opens=java.base/java.lang=ALL-UNNAMED",
  "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
  "--add-opens=java.base/java.util=ALL-UNNAMED",
  "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
  "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
  "--add-opens=java.base/java.net=ALL-UNNAMED",
  "-Dio.netty.tryReflectionSetAccessible=true",
  "-Dio.netty.allocator.useCacheForAllThreads=true",
  "-Dio.netty.allocator.maxOrder=11",
  "-Dchronicle.analytics.disable=true",
];

/** Fast single-node start: no gossip settling, no saved ring, short ring delay, unsafe system. */
const FAST_START = [
  "-Dcassandra-foreground=yes",
  "-Dcassandra.skip_wait_for_gossip_to_settle=0",
  "-Dcassandra.load_ring_state=false",
  "-Dcassandra.ring_delay_ms=100",
  "-Dcassandra.unsafesystem=true",
  "-Dcassandra.superuser_setup_delay_ms=0",
];

/** The local Cassandra server definition for the given state directory. */
export function cassandraServer(paths: LocalPaths, ports: LocalPorts): ServerDef {
  const f = stateFiles(paths, "cassandra");
  return {
    name: "cassandra",
    title: "Cassandra",
    host: CASSANDRA_HOST,
    clientPort: ports.cassandra,
    ports: [ports.cassandra, ports.cassandraStorage, ports.cassandraJmx],
    marker: f.marker,
    pidFile: f.pidFile,
    logFile: f.logFile,
    dataDir: f.dataDir,
    async prepare() {
      const java = java17();
      const jars = await cassandraJars({ paths });
      const jamm = jars.find((j) => /\/jamm-[^/]*\.jar$/.test(j));
      if (!jamm) throw new Error("Cassandra jars lack jamm (needed as -javaagent)");
      await Deno.mkdir(f.confDir, { recursive: true });
      await Deno.mkdir(f.dataDir, { recursive: true });
      await Deno.mkdir(`${f.dir}/triggers`, { recursive: true });
      const vars = {
        host: CASSANDRA_HOST,
        storagePort: ports.cassandraStorage,
        dataDir: f.dataDir,
        logFile: f.logFile,
      };
      await renderFile("cassandra.yaml", `${f.confDir}/cassandra.yaml`, vars);
      await renderFile("logback.xml", `${f.confDir}/logback.xml`, vars);
      return {
        command: java,
        args: [
          ...JVM_FLAGS,
          f.marker,
          `-javaagent:${jamm}`,
          `-Dcassandra.config=file://${f.confDir}/cassandra.yaml`,
          `-Dcassandra.storagedir=${f.dataDir}`,
          `-Dcassandra.logdir=${paths.stateDir}/logs`,
          `-Dlogback.configurationFile=file://${f.confDir}/logback.xml`,
          `-Dcassandra.jmx.local.port=${ports.cassandraJmx}`,
          `-Dcassandra.native_transport_port=${ports.cassandra}`,
          `-Dcassandra.storage_port=${ports.cassandraStorage}`,
          `-Dcassandra.triggers_dir=${f.dir}/triggers`,
          ...FAST_START,
          "-cp",
          [f.confDir, ...jars].join(":"),
          "org.apache.cassandra.service.CassandraDaemon",
        ],
      };
    },
    async ready() {
      const client = new Client({
        contactPoints: [CASSANDRA_HOST],
        localDataCenter: "datacenter1",
        protocolOptions: { port: ports.cassandra, maxVersion: 4 },
        socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
      });
      try {
        await client.connect();
        const rs = await client.execute("SELECT release_version FROM system.local");
        return rs.rows.length === 1;
      } catch {
        return false;
      } finally {
        await client.shutdown().catch(() => {});
      }
    },
  };
}
