/**
 * @module
 * Test fixture: writes generated records as the master dataset exactly as the archiver would
 * (every record `parseEvent` accepts, with per-(topic, partition) offsets) and runs the batch
 * layer over it, so serving tests read real batch outputs. Also returns the records with their
 * offsets for the reference calculator.
 */
import type { ResolvedConfig } from "../../shared/config.ts";
import { type ArchiveRow, archiveRow, writeArchive } from "../../shared/archive.ts";
import { parseEvent } from "../../shared/events.ts";
import type { GeneratedRecord } from "../../generator/generate.ts";
import type { ReferenceInput } from "../../generator/reference.ts";

/** Records with the offsets they were given. */
export function withOffsets(records: Iterable<GeneratedRecord>): ReferenceInput[] {
  const next = new Map<string, number>();
  const out: ReferenceInput[] = [];
  for (const r of records) {
    const pk = `${r.topic}/${r.partition}`;
    const offset = next.get(pk) ?? 0;
    next.set(pk, offset + 1);
    out.push({
      topic: r.topic,
      partition: r.partition,
      value: r.value,
      kafkaTs: r.kafkaTs,
      key: r.key,
      offset,
    });
  }
  return out;
}

/**
 * Writes the valid records to `cfg.dataDir` as master dataset files.
 * @param now the instant of the future-timestamp check (as the processors' clock)
 * @returns the number of rows written
 */
export async function writeMasterDataset(
  cfg: Pick<ResolvedConfig, "dataDir" | "topics">,
  records: readonly ReferenceInput[],
  now: number,
): Promise<number> {
  const rows: ArchiveRow[] = [];
  for (const r of records) {
    const parsed = parseEvent(r.topic, r.value, { now, kafkaTimestamp: r.kafkaTs });
    if (!parsed.ok) continue;
    rows.push(archiveRow(parsed.ok, {
      topic: cfg.topics[r.topic],
      partition: r.partition,
      offset: r.offset!,
      kafkaTs: r.kafkaTs,
      raw: r.value,
      key: r.key ?? null,
    }));
  }
  await writeArchive(cfg.dataDir, rows, { fsync: false }); // test data: durability is moot
  return rows.length;
}
