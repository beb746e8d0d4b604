/**
 * @module
 * The stream job registry: job name → factory. `deno task process` builds every enabled job from
 * here; a job that is enabled but not registered is reported and skipped. Later jobs
 * (data_enrichment, cdc_transformation) plug in with one `register` call in ./mod.ts.
 */
import type { ResolvedConfig, StreamJob } from "../../shared/config.ts";
import type { Logger } from "../../shared/log.ts";
import type { Registry } from "../../shared/metrics.ts";
import type { JobDefinition } from "../runtime/task.ts";
import type { ViewStore } from "../store/view_store.ts";

/** What a job factory gets. */
export interface JobDeps {
  config: ResolvedConfig;
  /** The realtime view store (Cassandra in production). */
  store: ViewStore;
  log: Logger;
  metrics: Registry;
}

/** Builds a job from its dependencies. */
export type JobFactory = (deps: JobDeps) => JobDefinition;

/** Job factories by name. */
export class JobRegistry {
  #factories = new Map<StreamJob, JobFactory>();

  /**
   * Registers a job.
   * @throws {Error} when the name is registered already
   */
  register(name: StreamJob, factory: JobFactory): this {
    if (this.#factories.has(name)) throw new Error(`Stream job ${name} is registered already`);
    this.#factories.set(name, factory);
    return this;
  }

  has(name: StreamJob): boolean {
    return this.#factories.has(name);
  }

  /** Registered job names, in registration order. */
  names(): StreamJob[] {
    return [...this.#factories.keys()];
  }

  /**
   * Builds a registered job.
   * @throws {RangeError} when the job is not registered, or the factory built another job
   */
  create(name: StreamJob, deps: JobDeps): JobDefinition {
    const f = this.#factories.get(name);
    if (!f) throw new RangeError(`Stream job ${name} is not registered`);
    const job = f(deps);
    if (job.name !== name) {
      throw new RangeError(`Factory of stream job ${name} built job ${job.name}`);
    }
    return job;
  }
}
