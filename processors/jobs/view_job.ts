/**
 * @module
 * Builds a realtime view job (a gated {@link JobDefinition}) from the parts it runs per partition.
 */
import type { ResolvedConfig, StreamJob, TopicKey } from "../../shared/config.ts";
import type { JobDefinition } from "../runtime/task.ts";
import type { ViewStore } from "../store/view_store.ts";
import { type PartEnv, type ViewPart, ViewTask } from "./view_task.ts";

/** What every view job needs. */
export interface ViewJobDeps {
  /** Where rows go. */
  store: ViewStore;
  /** Topic names (`cfg.topics`). */
  config: Pick<ResolvedConfig, "topics">;
}

/**
 * A realtime view job.
 * @param name the job name
 * @param topics the logical topics it reads
 * @param parts builds the parts of one (topic, partition) task
 */
export function viewJob(
  name: StreamJob,
  topics: readonly TopicKey[],
  parts: (topic: TopicKey, env: PartEnv) => ViewPart[],
  deps: ViewJobDeps,
): JobDefinition {
  return {
    name,
    topics,
    gated: true,
    async createTask(topic, partition, resume, context) {
      if (context === undefined) {
        throw new TypeError(
          `Job ${name} needs a TaskContext (the partition's gate and topic name)`,
        );
      }
      if (!topics.includes(topic)) {
        throw new RangeError(
          `Job ${name} does not read topic ${topic} (reads ${topics.join(", ")})`,
        );
      }
      const env: PartEnv = { kpart: partition, topicName: context.topicName };
      const late = await deps.store.lateCounts(name, context.topicName, partition);
      return new ViewTask({
        job: name,
        topic,
        partition,
        resume,
        context,
        store: deps.store,
        parts: parts(topic, env),
        late,
      });
    },
  };
}
