/**
 * @module
 * Consumer-group lag per topic and partition from the broker's own numbers: the group's committed
 * offsets (admin fetchOffsets) against each partition's log end (fetchTopicOffsets), the same
 * figures Kafka's `kafka-consumer-groups.sh --describe` prints.
 */
import type { Admin } from "kafkajs";

/** Lag of one partition. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset; null when the group committed nothing for the partition. */
  committed: number | null;
  /** First offset still in the log. */
  logStart: number;
  /** Log end offset (high watermark). */
  logEnd: number;
  /**
   * Messages the group has not consumed: logEnd − committed, or logEnd − logStart when nothing is
   * committed (what a group starting from the earliest offset would still have to read).
   */
  lag: number;
}

/**
 * Lag of a consumer group on the given topics (those that exist; a missing topic is skipped).
 * @param admin a connected kafkajs admin client
 * @param groupId the consumer group, e.g. `CONSUMER_GROUP`
 * @param topics topics to report
 * @returns one row per partition, ordered by topic then partition
 */
export async function consumerLag(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<PartitionLag[]> {
  const present = new Set(await admin.listTopics());
  const wanted = [...new Set(topics)].filter((t) => present.has(t)).sort();
  if (wanted.length === 0) return [];
  const committed = new Map<string, number>();
  for (const t of await admin.fetchOffsets({ groupId, topics: wanted })) {
    for (const p of t.partitions) {
      const o = Number(p.offset);
      if (o >= 0) committed.set(`${t.topic}/${p.partition}`, o);
    }
  }
  const rows: PartitionLag[] = [];
  for (const topic of wanted) {
    const offsets = await admin.fetchTopicOffsets(topic);
    for (const o of offsets.sort((a, b) => a.partition - b.partition)) {
      const logStart = Number(o.low);
      const logEnd = Number(o.high);
      const c = committed.get(`${topic}/${o.partition}`);
      rows.push({
        topic,
        partition: o.partition,
        committed: c ?? null,
        logStart,
        logEnd,
        lag: Math.max(0, logEnd - Math.max(c ?? logStart, logStart)),
      });
    }
  }
  return rows;
}

/** Lag as a fixed-width table with a total line. */
export function formatLag(groupId: string, rows: readonly PartitionLag[]): string {
  const head = ["TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG"];
  const body = rows.map((
    r,
  ) => [
    r.topic,
    String(r.partition),
    r.committed === null ? "-" : String(r.committed),
    String(r.logEnd),
    String(r.lag),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const total = rows.reduce((s, r) => s + r.lag, 0);
  return [`group ${groupId}`, line(head), ...body.map(line), `total lag: ${total}`].join("\n");
}
