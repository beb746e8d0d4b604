/**
 * @module
 * Waiting for the speed layer to cover the produced data: Kafka end offsets per partition, and the
 * stored checkpoints of every job reaching them (every view row covering those offsets written).
 */
import type { Client } from "cassandra-driver";
import type { Kafka } from "kafkajs";

/** End offsets (high watermarks) of topics: `topic` → partition → offset. */
export async function endOffsets(
  kafka: Kafka,
  topics: readonly string[],
): Promise<Map<string, Map<number, number>>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out = new Map<string, Map<number, number>>();
    for (const t of topics) {
      const list = await admin.fetchTopicOffsets(t);
      out.set(t, new Map(list.map((o) => [o.partition, Number(o.high)])));
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** How far the stored checkpoints are: partitions whose job checkpoints reached the end. */
export async function checkpointProgress(
  client: Client,
  group: string,
  jobs: readonly { name: string; topics: readonly string[] }[],
  ends: Map<string, Map<number, number>>,
): Promise<{ done: number; total: number; behind: string[] }> {
  const rs = await client.execute(
    "SELECT job, topic, kpart, next_offset FROM stream_checkpoints WHERE consumer_group = ?",
    [group],
    { prepare: true, fetchSize: 5000 },
  );
  const next = new Map<string, number>();
  for await (const r of rs) {
    next.set(`${r.get("job")}|${r.get("topic")}|${r.get("kpart")}`, Number(r.get("next_offset")));
  }
  let done = 0, total = 0;
  const behind: string[] = [];
  for (const j of jobs) {
    for (const t of j.topics) {
      for (const [p, end] of ends.get(t) ?? []) {
        if (end === 0) continue;
        total++;
        const n = next.get(`${j.name}|${t}|${p}`) ?? -1;
        if (n >= end) done++;
        else behind.push(`${j.name}|${t}|${p}: ${n}/${end}`);
      }
    }
  }
  return { done, total, behind };
}

/**
 * Waits until every job's checkpoint of every non-empty partition reached the end offset.
 * @throws {Error} after `timeoutMs`, listing the partitions behind
 */
export async function waitForCheckpoints(
  client: Client,
  group: string,
  jobs: readonly { name: string; topics: readonly string[] }[],
  ends: Map<string, Map<number, number>>,
  options: { timeoutMs?: number; pollMs?: number; onPoll?: () => void | Promise<void> } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    await options.onPoll?.();
    let p: { done: number; total: number; behind: string[] } | undefined;
    try {
      p = await checkpointProgress(client, group, jobs, ends);
      if (p.done === p.total) return;
    } catch { /* Cassandra restarting */ }
    if (Date.now() > deadline) {
      throw new Error(
        `checkpoints did not reach the end offsets: ${p?.done}/${p?.total}; behind: ${
          p?.behind.slice(0, 10).join(", ")
        }`,
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}
