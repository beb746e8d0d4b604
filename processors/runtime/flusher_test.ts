import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import type { StreamJob } from "../../shared/config.ts";
import { createLogger } from "../../shared/log.ts";
import { Registry } from "../../shared/metrics.ts";
import type { CheckpointEntry, CheckpointStore } from "./checkpoint_store.ts";
import type { DeadLetters } from "./dlq.ts";
import { Flusher } from "./flusher.ts";
import { LatencyTracker } from "./latency.ts";
import { processorMetrics } from "./metrics.ts";
import type { JobFlush, PartitionWorker } from "./partition_worker.ts";
import { emptyStats } from "./report.ts";
import type { Checkpoint } from "./task.ts";

const JOB: StreamJob = "video_views";

function cp(next: number): Checkpoint {
  return { nextOffset: next, replayOffset: next, replayMaxEventTime: -1, watermark: -1 };
}

/** A partition whose next flush writes with `write` and checkpoints at the next offset. */
class FakeWorker {
  readonly topicName = "video_topic";
  readonly partition = 0;
  position = 0;
  rows = 1;
  write: () => Promise<void> = () => Promise.resolve();
  #stored: Checkpoint | undefined;
  prepareFlush(): JobFlush[] {
    const write = this.write;
    return [{
      job: JOB,
      prepared: { checkpoint: cp(this.position), rows: this.rows, write },
      flush: undefined,
    }];
  }
  stored(): Checkpoint | undefined {
    return this.#stored;
  }
  markStored(_job: StreamJob, c: Checkpoint): void {
    this.#stored = c;
  }
}

function setup(maxInFlight = 4) {
  const worker = new FakeWorker();
  const stored: number[][] = [];
  const events: string[] = [];
  const health: string[] = [];
  const checkpoints: CheckpointStore = {
    loadAll: () => Promise.resolve(new Map()),
    store(entries: readonly CheckpointEntry[]) {
      stored.push(entries.map((e) => e.checkpoint.nextOffset));
      events.push(`store ${entries.map((e) => e.checkpoint.nextOffset).join(",")}`);
      return Promise.resolve();
    },
  };
  const dlq = { kick() {}, flush: () => Promise.resolve() } as unknown as DeadLetters;
  const flusher = new Flusher({
    workers: () => [worker as unknown as PartitionWorker],
    checkpoints,
    dlq,
    latency: new LatencyTracker(),
    metrics: processorMetrics(new Registry()),
    stats: emptyStats(),
    log: createLogger({ name: "test", level: "error" }),
    now: Date.now,
    backoff: { initialMs: 1, maxMs: 2 },
    afterFlush: () => events.push("commit"),
    onFailure: (stage) => health.push(`${stage} failed`),
    onSuccess: (stage, recovered) => health.push(`${stage} ok${recovered ? " (recovered)" : ""}`),
    maxInFlight,
  });
  return { worker, flusher, stored, events, health };
}

Deno.test("a flush writes its rows while an earlier flush's writes are still in flight", async () => {
  const { worker, flusher, events } = setup();
  const slow = Promise.withResolvers<void>();
  worker.position = 10;
  worker.write = () => (events.push("write 10 started"), slow.promise);
  const first = await flusher.start(Infinity);
  worker.position = 20;
  worker.write = () => (events.push("write 20"), Promise.resolve());
  const second = await flusher.start(Infinity);
  await new Promise((r) => setTimeout(r, 10));
  // The second flush's rows are written, but no checkpoint is stored before the first's rows.
  assertEquals(events, ["write 10 started", "write 20"]);
  assertEquals(flusher.queued, 2);
  slow.resolve();
  await first.done;
  await second.done;
  // The first flush's checkpoint is superseded by the second's (already written).
  assertEquals(events, ["write 10 started", "write 20", "store 20", "commit"]);
  assertEquals(flusher.queued, 0);
});

Deno.test("checkpoints are stored in flush order when the next flush is still writing", async () => {
  const { worker, flusher, stored } = setup();
  worker.position = 10;
  const first = await flusher.start(Infinity);
  const slow = Promise.withResolvers<void>();
  worker.position = 20;
  worker.write = () => slow.promise;
  const second = await flusher.start(Infinity);
  await first.done;
  assertEquals(stored, [[10]]);
  slow.resolve();
  await second.done;
  assertEquals(stored, [[10], [20]]);
});

Deno.test("no more than maxInFlight flushes are started at once", async () => {
  const { worker, flusher } = setup(2);
  const slow = Promise.withResolvers<void>();
  worker.write = () => slow.promise;
  const a = await flusher.start(Infinity);
  assertEquals(flusher.canStart, true);
  const b = await flusher.start(Infinity);
  assertEquals(flusher.canStart, false);
  slow.resolve();
  await Promise.all([a.done, b.done]);
  assertEquals(flusher.canStart, true);
});

Deno.test("a flush that failed for good fails every later flush and stores nothing", async () => {
  const { worker, flusher, stored } = setup();
  worker.position = 10;
  worker.write = () => Promise.reject(new Error("down"));
  const first = await flusher.start(Date.now() + 20);
  worker.position = 20;
  worker.write = () => Promise.resolve();
  const second = await flusher.start(Infinity);
  await rejects(first.done, /down/);
  await rejects(second.done, /down/);
  assertEquals(stored, []);
});

Deno.test("a written flush waiting for earlier checkpoints does not hold a write slot", async () => {
  const { worker, flusher } = setup(1);
  const slow = Promise.withResolvers<void>();
  worker.write = () => slow.promise;
  const a = await flusher.start(Infinity);
  assertEquals(flusher.canStart, false);
  slow.resolve();
  await a.done;
  const stalled = Promise.withResolvers<void>();
  let stores = 0;
  const realStore = flusher.retry.bind(flusher);
  flusher.retry = (stage, fn, deadline) =>
    stage === "store checkpoints" && stores++ === 0
      ? stalled.promise.then(() => realStore(stage, fn, deadline))
      : realStore(stage, fn, deadline);
  worker.position = 10;
  worker.write = () => Promise.resolve();
  const b = await flusher.start(Infinity);
  await new Promise((r) => setTimeout(r, 10));
  // b's rows are written; its checkpoints are stuck, yet another flush may start.
  assertEquals([flusher.queued, flusher.canStart], [1, true]);
  stalled.resolve();
  await b.done;
});

Deno.test("an empty flush does not report the store healthy while a real one is failing", async () => {
  const { worker, flusher, health } = setup();
  let down = true;
  worker.position = 10;
  worker.write = () => down ? Promise.reject(new Error("down")) : Promise.resolve();
  const failing = await flusher.start(Infinity);
  await new Promise((r) => setTimeout(r, 5));
  // A flush with nothing to write (consumption paused) and an unchanged checkpoint: no I/O.
  worker.rows = 0;
  worker.write = () => Promise.resolve();
  const empty = await flusher.start(Infinity);
  await new Promise((r) => setTimeout(r, 5));
  assertEquals(health.includes("write rows ok"), false, health.join("; "));
  assertEquals(health.includes("write rows failed"), true);
  down = false;
  await failing.done;
  await empty.done;
  assertEquals(health.includes("write rows ok (recovered)"), true, health.join("; "));
});
