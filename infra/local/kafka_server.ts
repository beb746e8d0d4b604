/**
 * @module
 * The local Kafka 3.9.1: single-node KRaft on 127.0.0.1:9092 (controller 9093) by default.
 */

import { createKafka } from "../../shared/kafka.ts";
import { java17 } from "./java.ts";
import { kafkaClasspath } from "./jars.ts";
import type { LocalPaths, LocalPorts } from "./paths.ts";
import { renderFile } from "./render.ts";
import { type ServerDef, stateFiles } from "./_server.ts";

export const KAFKA_HOST = "127.0.0.1";

/** JVM flags of Kafka's run script, with a 512 MB heap. */
const JVM_FLAGS = [
  "-Xms512M",
  "-Xmx512M",
  "-server",
  "-XX:+UseG1GC",
  "-XX:MaxGCPauseMillis=20",
  "-XX:InitiatingHeapOccupancyPercent=35",
  "-XX:+ExplicitGCInvokesConcurrent",
  "-XX:MaxInlineLevel=15",
  "-XX:+PerfDisableSharedMem",
  "-Djava.awt.headless=true",
];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (22 characters). Like Kafka's
 * `Uuid.randomUuid()`, never one starting with "-", which the tool's parser takes for an option.
 */
function randomClusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}

async function format(java: string, cp: string, conf: string, dir: string, logFile: string) {
  const idFile = `${dir}/cluster.id`;
  let id = exists(idFile) ? (await Deno.readTextFile(idFile)).trim() : "";
  if (id.length !== 22 || id.startsWith("-")) {
    id = randomClusterId();
    await Deno.writeTextFile(idFile, id + "\n");
  }
  const out = await new Deno.Command(java, {
    args: [
      "-Xmx256M",
      `-Dlog4j.configuration=file:${conf}/log4j.properties`,
      "-cp",
      cp,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      id,
      "-c",
      `${conf}/server.properties`,
      "--ignore-formatted",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  await Deno.writeTextFile(logFile, dec.decode(out.stdout) + dec.decode(out.stderr), {
    append: true,
  });
  if (!out.success) throw new Error(`Kafka StorageTool format failed; see ${logFile}`);
}

/** The local Kafka server definition for the given state directory. */
export function kafkaServer(paths: LocalPaths, ports: LocalPorts): ServerDef {
  const f = stateFiles(paths, "kafka");
  const probe = () =>
    createKafka(
      { kafkaBrokers: [`${KAFKA_HOST}:${ports.kafka}`], logLevel: "error" },
      "edu-lambda-infra-probe",
      {
        logLevel: "nothing",
        connectionTimeoutMs: 1000,
        requestTimeoutMs: 3000,
        retry: { retries: 0 },
      },
    );
  return {
    name: "kafka",
    title: "Kafka",
    host: KAFKA_HOST,
    clientPort: ports.kafka,
    ports: [ports.kafka, ports.kafkaController],
    marker: f.marker,
    pidFile: f.pidFile,
    logFile: f.logFile,
    dataDir: f.dataDir,
    async prepare() {
      const java = java17();
      const cp = await kafkaClasspath({ paths });
      await Deno.mkdir(f.confDir, { recursive: true });
      await Deno.mkdir(f.dataDir, { recursive: true });
      const vars = {
        host: KAFKA_HOST,
        port: ports.kafka,
        controllerPort: ports.kafkaController,
        dataDir: f.dataDir,
        logFile: f.logFile,
      };
      await renderFile("server.properties", `${f.confDir}/server.properties`, vars);
      await renderFile("log4j.properties", `${f.confDir}/log4j.properties`, vars);
      if (!exists(`${f.dataDir}/meta.properties`)) {
        await format(java, cp, f.confDir, f.dir, f.logFile);
      }
      return {
        command: java,
        args: [
          ...JVM_FLAGS,
          f.marker,
          `-Dlog4j.configuration=file:${f.confDir}/log4j.properties`,
          `-Dkafka.logs.dir=${paths.stateDir}/logs`,
          "-cp",
          cp,
          "kafka.Kafka",
          `${f.confDir}/server.properties`,
        ],
      };
    },
    async ready() {
      const admin = probe().admin();
      try {
        await admin.connect();
        await admin.listTopics();
        return true;
      } catch {
        return false;
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
    async warmUp() {
      // The first group lookup creates __consumer_offsets; until then every consumer's join fails
      // with "coordinator not available" (retried, but logged as errors). Do it once here.
      const admin = probe().admin();
      try {
        await admin.connect();
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          try {
            await admin.describeGroups(["edu-lambda-warmup"]);
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        // Likewise the first producer id: an idempotent producer's InitProducerId answers
        // "coordinator is loading" until the broker holds a block of ids. Ask for one now.
        while (Date.now() < deadline) {
          const producer = probe().producer({ idempotent: true, maxInFlightRequests: 1 });
          try {
            await producer.connect();
            return;
          } catch {
            await new Promise((r) => setTimeout(r, 200));
          } finally {
            await producer.disconnect().catch(() => {});
          }
        }
      } catch {
        // best effort
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
  };
}
