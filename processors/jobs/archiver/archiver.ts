/**
 * @module
 * The `archiver` stream job: every valid event of every input topic into the master dataset
 * (shared/archive.ts), exactly once per (topic, partition, offset).
 *
 * Per (topic, partition) the task buffers rows and, when a roll is due (size or age), writes one
 * Parquet file per event (date, hour) touched, named `p<partition>-<first>-<last>.parquet`
 * (temporary name, then rename), and only then reports the checkpoint
 * `nextOffset = replayOffset = last + 1`. A new owner deletes the partition's files whose first
 * offset is ≥ its `nextOffset` (written after the last stored checkpoint) and temporary files
 * before it writes anything, then the runtime replays from the checkpoint.
 */
import type { ResolvedConfig, TopicKey } from "../../../shared/config.ts";
import { TOPIC_KEYS } from "../../../shared/config.ts";
import type { ValidEvent } from "../../../shared/events.ts";
import {
  approxRowBytes,
  archiveDir,
  archiveFileName,
  type ArchiveRow,
  archiveRow,
  encodeArchive,
  listArchiveFiles,
  writeFileAtomic,
} from "../../../shared/archive.ts";
import type { Logger } from "../../../shared/log.ts";
import type { Registry } from "../../../shared/metrics.ts";
import type {
  Checkpoint,
  JobDefinition,
  PartitionTask,
  RecordMeta,
  TaskContext,
} from "../../runtime/task.ts";

/** When a partition's buffer is written out. */
export interface RollPolicy {
  /** Roll at this many buffered events; default 50000. */
  maxEvents?: number;
  /** Roll at about this many buffered bytes; default 64 MiB. */
  maxBytes?: number;
  /** Roll when the oldest buffered event was buffered this long ago; default 30000 ms. */
  maxAgeMs?: number;
}

/** Dependencies and options of {@link archiverJob}; each has a real default. */
export interface ArchiverDeps {
  /** Roll thresholds. */
  roll?: RollPolicy;
  /** Clock for the age rule; default `Date.now`. */
  now?: () => number;
  /** fsync each file before its rename; default true. */
  fsync?: boolean;
  /** Logger; default none. */
  log?: Logger;
  /** Metrics registry; default none. */
  metrics?: Registry;
}

/** The part of the configuration the archiver needs. */
export type ArchiverConfig = Pick<ResolvedConfig, "dataDir" | "topics">;

interface Resolved {
  maxEvents: number;
  maxBytes: number;
  maxAgeMs: number;
  now: () => number;
  fsync: boolean;
  log?: Logger;
  files?: ReturnType<Registry["counter"]>;
  events?: ReturnType<Registry["counter"]>;
  removed?: ReturnType<Registry["counter"]>;
}

function checkpointAt(next: number): Checkpoint {
  return { nextOffset: next, replayOffset: next, replayMaxEventTime: -1, watermark: -1 };
}

class ArchiverTask implements PartitionTask {
  readonly resumeFrom: Checkpoint | undefined;
  #cfg: ArchiverConfig;
  #o: Resolved;
  #topic: TopicKey;
  #topicName: string;
  #partition: number;
  #rows: ArchiveRow[] = [];
  #bytes = 0;
  #since = 0;
  #committed: Checkpoint | undefined;
  /** Lowest offset whose files may be rewritten; files from here on were cleaned (or not yet). */
  #cleanedFrom: number | undefined;

  constructor(
    cfg: ArchiverConfig,
    o: Resolved,
    topic: TopicKey,
    topicName: string,
    partition: number,
    resume: Checkpoint | undefined,
  ) {
    this.#topicName = topicName;
    this.#cfg = cfg;
    this.#o = o;
    this.#topic = topic;
    this.#partition = partition;
    this.resumeFrom = resume;
    this.#committed = resume;
  }

  /** Removes files written after the stored checkpoint, and temporary files of the partition. */
  async cleanup(from: number): Promise<number> {
    const files = await listArchiveFiles(this.#cfg.dataDir, {
      topics: [this.#topicName],
      partition: this.#partition,
      includeTemp: true,
    });
    let n = 0;
    for (const f of files) {
      if (f.first === -1 || f.first >= from) {
        await Deno.remove(f.path).catch((e) => {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        });
        n++;
      } else if (f.last >= from) {
        this.#o.log?.warn("archive file straddles the resume offset; kept", {
          path: f.path,
          resumeOffset: from,
        });
      }
    }
    this.#cleanedFrom = from;
    if (n > 0) {
      this.#o.removed?.inc({ topic: this.#topic }, n);
      this.#o.log?.info("removed archive files written after the last checkpoint", {
        topic: this.#topic,
        partition: this.#partition,
        from,
        files: n,
      });
    }
    return n;
  }

  onEvent(event: ValidEvent, meta: RecordMeta, _replaying: boolean): void {
    if (this.#committed && meta.offset < this.#committed.nextOffset) return;
    const last = this.#rows.length > 0 ? this.#rows[this.#rows.length - 1].offset : -1;
    if (meta.offset <= last) return; // a redelivery of an offset already buffered
    const row = archiveRow(event, {
      topic: this.#topicName,
      partition: meta.partition,
      offset: meta.offset,
      kafkaTs: meta.kafkaTs,
      raw: meta.raw,
      key: meta.key,
    });
    if (this.#rows.length === 0) this.#since = this.#o.now();
    this.#rows.push(row);
    this.#bytes += approxRowBytes(row);
  }

  #rollDue(): boolean {
    const n = this.#rows.length;
    return n > 0 &&
      (n >= this.#o.maxEvents || this.#bytes >= this.#o.maxBytes ||
        this.#o.now() - this.#since >= this.#o.maxAgeMs);
  }

  /** Buffered events when a roll is due (the next flush writes them), else 0. */
  pending(): number {
    return this.#rollDue() ? this.#rows.length : 0;
  }

  /** Buffered events, whether or not a roll is due. */
  buffered(): number {
    return this.#rows.length;
  }

  /**
   * Writes the buffer when a roll is due, then returns `nextOffset = last + 1` (or `position` when
   * larger). Otherwise writes nothing and returns the last committed checkpoint, or `position` when
   * nothing is buffered. Events fed while it writes belong to the next roll; on failure the rows
   * stay buffered for the retry. One-phase on purpose (no `prepareFlush`): the runtime then
   * retries the write before it feeds more records, so a checkpoint never skips unwritten rows.
   */
  async flush(position?: number): Promise<Checkpoint> {
    const { rows, checkpoint } = this.#take(position);
    if (rows.length === 0) return checkpoint;
    try {
      await this.#write(rows);
    } catch (e) {
      // Keep the rows, in front of anything fed meanwhile, for the retry.
      this.#rows = rows.concat(this.#rows);
      for (const r of rows) this.#bytes += approxRowBytes(r);
      throw e;
    }
    this.#commit(checkpoint, rows.length);
    return checkpoint;
  }

  #take(position: number | undefined): { rows: ArchiveRow[]; checkpoint: Checkpoint } {
    if (!this.#rollDue()) {
      const checkpoint = this.#rows.length === 0 && position !== undefined
        ? checkpointAt(Math.max(position, this.#committed?.nextOffset ?? 0))
        : this.#committed ?? checkpointAt(this.#rows.length > 0 ? this.#rows[0].offset : 0);
      return { rows: [], checkpoint };
    }
    const rows = this.#rows;
    this.#rows = [];
    this.#bytes = 0;
    return {
      rows,
      checkpoint: checkpointAt(Math.max(rows[rows.length - 1].offset + 1, position ?? 0)),
    };
  }

  #commit(checkpoint: Checkpoint, events: number): void {
    this.#o.events?.inc({ topic: this.#topic }, events);
    if (!this.#committed || checkpoint.nextOffset > this.#committed.nextOffset) {
      this.#committed = checkpoint;
    }
  }

  async #write(rows: ArchiveRow[]): Promise<void> {
    const first = rows[0].offset;
    if (this.#cleanedFrom === undefined || first < this.#cleanedFrom) await this.cleanup(first);
    const groups = new Map<string, ArchiveRow[]>();
    for (const r of rows) {
      const k = `${r.date}/${r.hour}`;
      let g = groups.get(k);
      if (!g) groups.set(k, g = []);
      g.push(r);
    }
    for (const g of groups.values()) {
      const dir = archiveDir(this.#cfg.dataDir, g[0].topic, g[0].date, g[0].hour);
      await Deno.mkdir(dir, { recursive: true });
      const path = `${dir}/${
        archiveFileName(this.#partition, g[0].offset, g[g.length - 1].offset)
      }`;
      await writeFileAtomic(path, encodeArchive(g), { fsync: this.#o.fsync });
    }
    this.#o.files?.inc({ topic: this.#topic }, groups.size);
  }

  close(): Promise<void> {
    this.#rows = [];
    this.#bytes = 0;
    return Promise.resolve();
  }
}

/**
 * The `archiver` job definition over every input topic.
 * @param cfg data directory and topic names
 * @param deps roll policy, clock, logger, metrics
 */
export function archiverJob(cfg: ArchiverConfig, deps: ArchiverDeps = {}): JobDefinition {
  const o: Resolved = {
    maxEvents: deps.roll?.maxEvents ?? 50_000,
    maxBytes: deps.roll?.maxBytes ?? 64 * 1024 * 1024,
    maxAgeMs: deps.roll?.maxAgeMs ?? 30_000,
    now: deps.now ?? Date.now,
    fsync: deps.fsync ?? true,
    log: deps.log,
  };
  if (!(o.maxEvents >= 1) || !(o.maxBytes >= 1) || !(o.maxAgeMs >= 0)) {
    throw new RangeError(
      `Cannot create archiver: roll thresholds must be positive, got ${JSON.stringify(deps.roll)}`,
    );
  }
  if (deps.metrics) {
    o.files = deps.metrics.counter(
      "archiver_files_written_total",
      "Master dataset files written",
      ["topic"],
    );
    o.events = deps.metrics.counter(
      "archiver_events_written_total",
      "Events written to the master dataset",
      ["topic"],
    );
    o.removed = deps.metrics.counter(
      "archiver_files_removed_total",
      "Master dataset files removed on takeover (written after the last checkpoint)",
      ["topic"],
    );
  }
  return {
    name: "archiver",
    topics: TOPIC_KEYS,
    async createTask(topic, partition, resume, context?: TaskContext) {
      const name = context?.topicName ?? cfg.topics[topic];
      const task = new ArchiverTask(cfg, o, topic, name, partition, resume);
      if (resume) await task.cleanup(resume.nextOffset);
      return task;
    },
  };
}
