/**
 * @module
 * `deno task lag [--group G] [--topic T]... [--json]`: lag of the stream processors' consumer
 * group (default `CONSUMER_GROUP`) per topic and partition, on the configured input topics unless
 * topics are named. `--json` prints an array of
 * `{topic, partition, committed, logStart, logEnd, lag}`.
 *
 * Exit codes: 0 done, 1 Kafka failure, 2 bad arguments or configuration.
 */
import { parseArgs } from "node:util";
import { loadConfigOrExit, TOPIC_KEYS } from "../shared/config.ts";
import { createKafka } from "../shared/kafka.ts";
import { consumerLag, formatLag } from "./lag_core.ts";

const USAGE = "usage: deno task lag [--group G] [--topic T]... [--json]";

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        group: { type: "string" },
        topic: { type: "string", multiple: true },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    console.error((e as Error).message);
    console.error(USAGE);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const cfg = loadConfigOrExit();
  const group = values.group ?? cfg.consumerGroup;
  const topics = values.topic?.length ? values.topic : TOPIC_KEYS.map((k) => cfg.topics[k]);
  const admin = createKafka(cfg, "edu-ops-lag").admin();
  try {
    await admin.connect();
    const rows = await consumerLag(admin, group, topics);
    console.log(values.json ? JSON.stringify(rows) : formatLag(group, rows));
    return 0;
  } catch (e) {
    console.error(`lag failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
