/**
 * The reference calculator's first step: validate every record as the processors do, then build
 * the two exact event sets of DESIGN.md: BATCH (all valid events, deduplicated by (topic,
 * event_id) keeping the first copy by (kafkaTs, partition, offset)) and REALTIME (per partition in
 * offset order: realtime dedup, then the watermark rule; late events are set aside).
 */
import { TOPIC_KEYS, type TopicKey } from "../shared/config.ts";
import { parseEvent, type RejectReason } from "../shared/events.ts";
import { floorHour, floorMinute } from "../shared/time.ts";

/** A record as produced (or consumed back). */
export interface ReferenceInput {
  topic: TopicKey;
  partition: number;
  value: string | null;
  kafkaTs: number;
  key?: string | null;
  /** Partition offset; when absent, the position among the input's records of the same partition. */
  offset?: number;
}

/** A valid event with the fields the figures use. */
export interface RefEvent {
  topic: TopicKey;
  partition: number;
  offset: number;
  kafkaTs: number;
  eventTime: number;
  /** `event_id`; CDC: `cdc:<partition>:<offset>` (CDC events are never deduplicated). */
  eventId: string;
  /** `user_id`; CDC: the message key. */
  userId: string;
  /** The parsed body (CDC: the payload, null for a tombstone). */
  data: Record<string, unknown> | null;
  action?: string;
  courseId?: string;
  videoId?: string;
  assessmentId?: string;
  channel?: string;
  eventType?: string;
  appType?: string;
  sessionId?: string;
  pageUrl?: string;
  device?: string;
}

/** A rejected record: what the dead-letter topic `<topic>.dlq` must hold. */
export interface RefRejection {
  topic: TopicKey;
  partition: number;
  offset: number;
  kafkaTs: number;
  key: string | null;
  value: string | null;
  reason: RejectReason;
  field: string;
}

/** A late event (not applied to realtime views). */
export interface RefLate {
  event: RefEvent;
  /** Start of the event-time hour (the `late_events.hour`). */
  hour: number;
}

/** Options of {@link buildSets}. */
export interface ReferenceOptions {
  /** `ALLOWED_LATENESS_MS`; default 600000. */
  allowedLatenessMs?: number;
  /** Realtime dedup horizon; default 3600000 (1 h). */
  dedupWindowMs?: number;
  /** The instant of the future-timestamp check; default `Date.now()`. */
  now?: number;
}

export interface EventSets {
  batch: RefEvent[];
  realtime: RefEvent[];
  rejected: RefRejection[];
  late: RefLate[];
  /** Copies dropped by realtime dedup, per topic. */
  realtimeDeduplicated: Record<TopicKey, number>;
  /** Copies dropped by batch dedup, per topic. */
  batchDeduplicated: Record<TopicKey, number>;
  /** Valid records per topic (before any dedup). */
  valid: Record<TopicKey, number>;
}

/** Orders events by (eventTime, partition, offset); the topic breaks the last tie. */
export function byEventTime(a: RefEvent, b: RefEvent): number {
  return a.eventTime - b.eventTime || a.partition - b.partition || a.offset - b.offset ||
    (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function zeroes(): Record<TopicKey, number> {
  return Object.fromEntries(TOPIC_KEYS.map((t) => [t, 0])) as Record<TopicKey, number>;
}

/**
 * Validates and splits the records into the batch and realtime event sets.
 * @param records in per-partition offset order (their order of production)
 */
export function buildSets(
  records: Iterable<ReferenceInput>,
  options: ReferenceOptions = {},
): EventSets {
  const lateness = options.allowedLatenessMs ?? 600_000;
  const dedupWindow = options.dedupWindowMs ?? 3_600_000;
  const now = options.now ?? Date.now();
  const nextOffset = new Map<string, number>();
  const valid = zeroes();
  const rejected: RefRejection[] = [];
  const all: RefEvent[] = [];
  for (const r of records) {
    const pk = `${r.topic}/${r.partition}`;
    const offset = r.offset ?? nextOffset.get(pk) ?? 0;
    nextOffset.set(pk, offset + 1);
    const parsed = parseEvent(r.topic, r.value, { now, kafkaTimestamp: r.kafkaTs });
    if (parsed.err) {
      rejected.push({
        topic: r.topic,
        partition: r.partition,
        offset,
        kafkaTs: r.kafkaTs,
        key: r.key ?? null,
        value: r.value,
        reason: parsed.err.reason,
        field: parsed.err.field,
      });
      continue;
    }
    valid[r.topic]++;
    const data = parsed.ok.data as Record<string, unknown> | null;
    const isCdc = r.topic === "CDC";
    all.push({
      topic: r.topic,
      partition: r.partition,
      offset,
      kafkaTs: r.kafkaTs,
      eventTime: parsed.ok.eventTime,
      eventId: isCdc ? `cdc:${r.partition}:${offset}` : String(data!.event_id),
      userId: isCdc ? String(r.key ?? "") : String(data!.user_id),
      data,
      action: isCdc ? undefined : str(data!.action),
      courseId: isCdc ? undefined : str(data!.course_id),
      videoId: isCdc ? undefined : str(data!.video_id),
      assessmentId: isCdc ? undefined : str(data!.assessment_id),
      channel: isCdc ? undefined : str(data!.channel),
      eventType: isCdc ? undefined : str(data!.event_type),
      appType: isCdc ? undefined : str(data!.app_type),
      sessionId: isCdc ? undefined : str(data!.session_id),
      pageUrl: isCdc ? undefined : str(data!.page_url),
      device: isCdc ? undefined : str(data!.device),
    });
  }

  // BATCH: the first copy of each (topic, event_id) by (kafkaTs, partition, offset).
  const first = new Map<string, RefEvent>();
  const batchDeduplicated = zeroes();
  for (const e of all) {
    const k = `${e.topic}\u0000${e.eventId}`;
    const prev = first.get(k);
    if (!prev) {
      first.set(k, e);
      continue;
    }
    batchDeduplicated[e.topic]++;
    const earlier = e.kafkaTs - prev.kafkaTs || e.partition - prev.partition ||
      e.offset - prev.offset;
    if (earlier < 0) first.set(k, e);
  }
  const batch = [...first.values()].sort(byEventTime);

  // REALTIME: per (topic, partition) in offset order. Dedup first: a copy whose last counted
  // copy's kafkaTs is at most `dedupWindow` older is dropped (the dedup state forgets an id after
  // the window, so a copy beyond it counts again and starts a new window). Then the watermark
  // rule on the partition's max event time before this event.
  const byPartition = new Map<string, RefEvent[]>();
  for (const e of all) {
    const pk = `${e.topic}/${e.partition}`;
    let list = byPartition.get(pk);
    if (!list) byPartition.set(pk, list = []);
    list.push(e);
  }
  const realtime: RefEvent[] = [];
  const late: RefLate[] = [];
  const realtimeDeduplicated = zeroes();
  for (const list of byPartition.values()) {
    list.sort((a, b) => a.offset - b.offset);
    const counted = new Map<string, number>();
    let maxEventTime = -Infinity;
    for (const e of list) {
      if (e.topic !== "CDC") {
        const last = counted.get(e.eventId);
        if (last !== undefined && e.kafkaTs - last <= dedupWindow) {
          realtimeDeduplicated[e.topic]++;
          continue;
        }
        counted.set(e.eventId, e.kafkaTs);
      }
      const wm = maxEventTime - lateness;
      if (floorMinute(e.eventTime) + 60_000 <= wm) {
        late.push({ event: e, hour: floorHour(e.eventTime) });
      } else realtime.push(e);
      if (e.eventTime > maxEventTime) maxEventTime = e.eventTime;
    }
  }
  realtime.sort(byEventTime);
  return { batch, realtime, rejected, late, realtimeDeduplicated, batchDeduplicated, valid };
}
