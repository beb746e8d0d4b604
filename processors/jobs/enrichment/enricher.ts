/**
 * @module
 * The pure core of the enrichment job for one partition number: every input topic is keyed by
 * `user_id` with the same partition count, so all of a user's events (auth, video, …) share a
 * partition number and one {@link PartitionEnricher} holds that user's state for every topic.
 */
import type { ValidEvent } from "../../../shared/events.ts";
import type { ProfileView } from "./dim_cache.ts";
import { type EnrichedEvent, FLAGS } from "./enriched.ts";
import { type ResolvedRiskOptions, type UserFigures, UserState } from "./user_state.ts";

/** Source coordinates of an event being enriched. */
export interface SourceMeta {
  /** Actual Kafka topic name. */
  topic: string;
  partition: number;
  offset: number;
  kafkaTs: number;
  raw: string;
}

/** Per-user state of one partition number. */
export class PartitionEnricher {
  #o: ResolvedRiskOptions;
  #users = new Map<string, UserState>();
  #maxEventTime = -Infinity;
  #sinceSweep = 0;

  constructor(options: ResolvedRiskOptions) {
    this.#o = options;
  }

  /** Users with state. */
  get users(): number {
    return this.#users.size;
  }

  /**
   * Applies one event to its user's state and returns the figures it gets.
   * @param duplicate a re-sent copy: judged by the state, not added to it
   * @param stored the user's stored device/country (seeds a user new to this state)
   */
  apply(event: ValidEvent, duplicate: boolean, stored?: ProfileView): UserFigures {
    const userId = String((event.data as Record<string, unknown>).user_id);
    let s = this.#users.get(userId);
    if (!s) this.#users.set(userId, s = new UserState());
    if (stored) s.seed(stored.lastDevice, stored.lastCountry, stored.lastAuthAt ?? -Infinity);
    if (event.eventTime > this.#maxEventTime) this.#maxEventTime = event.eventTime;
    if (++this.#sinceSweep >= 4096) this.#sweep();
    return duplicate ? s.figuresAt(event.eventTime, this.#o) : s.add(event, this.#o);
  }

  /** Forgets users without events in the longest window (their device/country are stored). */
  #sweep(): void {
    this.#sinceSweep = 0;
    const o = this.#o;
    const limit = this.#maxEventTime -
      Math.max(o.engagementWindowMs, o.failedWindowMs, 2 * o.travelWindowMs);
    for (const [id, s] of this.#users) if (s.lastEventAt < limit) this.#users.delete(id);
  }
}

/** The action or event type of an event, if it has one. */
export function actionOf(event: ValidEvent): string | null {
  const d = event.data as Record<string, unknown>;
  return typeof d.action === "string"
    ? d.action
    : typeof d.event_type === "string"
    ? d.event_type
    : null;
}

/** What an event is enriched with. */
export interface EnrichInput {
  /** Source coordinates and raw value. */
  meta: SourceMeta;
  /** The user's profile as loaded (unknown users: empty fields and `unknown_user`). */
  view: ProfileView;
  /** Device, country, score and risk flags from the user's state. */
  figures: UserFigures;
  /** A re-sent copy (flag `duplicate`). */
  duplicate: boolean;
}

/** Builds the enriched event from the event, its user's profile and figures. */
export function enrich(event: ValidEvent, input: EnrichInput): EnrichedEvent {
  const { meta, view, figures, duplicate } = input;
  const d = event.data as Record<string, unknown>;
  const flags: string[] = [];
  if (!view.known) flags.push(FLAGS.unknownUser);
  if (view.deleted) flags.push(FLAGS.deletedUser);
  if (duplicate) flags.push(FLAGS.duplicate);
  return {
    topic: meta.topic,
    partition: meta.partition,
    offset: meta.offset,
    kafkaTs: meta.kafkaTs,
    eventId: String(d.event_id),
    userId: String(d.user_id),
    eventTime: event.eventTime,
    action: actionOf(event),
    profile: view.known ? view.fields : {},
    knownUser: view.known,
    deletedUser: view.deleted,
    profilePosition: view.sourcePosition,
    device: figures.device,
    country: figures.country,
    engagementScore: figures.engagementScore,
    riskFlags: figures.riskFlags,
    flags,
    payload: meta.raw,
  };
}
