/**
 * @module
 * Per-user state of the enrichment job and the calculated fields it yields for each event
 * (docs/ENRICHMENT.md): the latest device and country of auth events, an engagement score, and
 * risk flags. Pure: event times in, figures out; no clock, no IO. Windows are by event time and
 * include the event itself, so an out-of-order event is judged against the events around it.
 */
import type { ValidEvent } from "../../../shared/events.ts";

/** Thresholds of the risk flags; each has a default. */
export interface RiskOptions {
  /** Failed logins that make a burst; default 5. */
  failedLogins?: number;
  /** Window of a failed-login burst; default 600000 (10 min). */
  failedWindowMs?: number;
  /** Two different countries closer than this are impossible travel; default 3600000 (1 h). */
  travelWindowMs?: number;
  /** More events than this in one minute is unusual volume; default 100. */
  maxEventsPerMinute?: number;
  /** Window of the engagement score; default 3600000 (1 h). */
  engagementWindowMs?: number;
}

/** {@link RiskOptions} with defaults applied. */
export type ResolvedRiskOptions = Required<RiskOptions>;

/** Applies defaults and checks ranges. @throws {RangeError} naming the option */
export function resolveRiskOptions(o: RiskOptions = {}): ResolvedRiskOptions {
  const r: ResolvedRiskOptions = {
    failedLogins: o.failedLogins ?? 5,
    failedWindowMs: o.failedWindowMs ?? 600_000,
    travelWindowMs: o.travelWindowMs ?? 3_600_000,
    maxEventsPerMinute: o.maxEventsPerMinute ?? 100,
    engagementWindowMs: o.engagementWindowMs ?? 3_600_000,
  };
  for (const [k, v] of Object.entries(r)) {
    if (!(Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`Cannot enrich: '${k}' must be a positive integer, got ${v}`);
    }
  }
  return r;
}

/** The risk flags, by name. */
export const RISK_FLAGS = {
  failedLoginBurst: "failed_login_burst",
  impossibleTravel: "impossible_travel",
  highEventVolume: "high_event_volume",
} as const;

/**
 * Engagement weight of an event: deliberate learning actions weigh most, passive ones least.
 * Keep docs/ENRICHMENT.md in step.
 */
export function engagementWeight(event: ValidEvent): number {
  const d = event.data as Record<string, unknown> | null;
  const action = typeof d?.action === "string" ? d.action : "";
  switch (event.topic) {
    case "AUTH":
      return action === "login" ? 1 : 0;
    case "VIDEO":
      return action === "complete" ? 5 : action === "play" ? 2 : action === "heartbeat" ? 0.5 : 0.2;
    case "ASSESSMENT":
      return action === "graded" ? 6 : action === "submitted" ? 4 : 2;
    case "COURSE":
      return action === "completed"
        ? 10
        : action === "enrolled"
        ? 3
        : action === "progress"
        ? 2
        : 0;
    case "APP_EVENTS": {
      const t = d?.event_type;
      return t === "purchase" ? 5 : t === "search" ? 1 : 0.5;
    }
    case "CLICKSTREAM":
      return 0.2;
    case "NOTIFICATION":
      return action === "clicked" ? 2 : action === "opened" ? 1 : 0;
    case "PROFILE":
      return 1;
    default:
      return 0;
  }
}

/** What one event gets from its user's state. */
export interface UserFigures {
  device: string | null;
  country: string | null;
  engagementScore: number;
  riskFlags: string[];
}

interface Obs {
  t: number;
  w: number;
  failed: boolean;
  country: string | null;
}

/** One user's recent events (within the longest window) and latest device and country. */
export class UserState {
  /** Latest auth device/country and the event time that set each. */
  device: string | null = null;
  deviceAt = -Infinity;
  country: string | null = null;
  countryAt = -Infinity;
  /** Event time of the newest event seen. */
  lastEventAt = -Infinity;
  #obs: Obs[] = [];
  /** Impossible-travel detections (event time of the later observation). */
  #travelAt: number[] = [];

  /** Seeds device and country from the dimension (as of `at`) unless newer ones are known. */
  seed(device: string | null, country: string | null, at: number): void {
    if (device !== null && at > this.deviceAt) (this.device = device), (this.deviceAt = at);
    if (country !== null && at > this.countryAt) (this.country = country), (this.countryAt = at);
  }

  /** Adds an event (not a duplicate) and returns the figures it is enriched with. */
  add(event: ValidEvent, o: ResolvedRiskOptions): UserFigures {
    const t = event.eventTime;
    const d = event.data as Record<string, unknown>;
    let country: string | null = null;
    let failed = false;
    if (event.topic === "AUTH") {
      failed = d.action === "login_failed";
      if (typeof d.device === "string" && t >= this.deviceAt) {
        this.device = d.device;
        this.deviceAt = t;
      }
      if (typeof d.country === "string" && d.country.length > 0) {
        country = d.country;
        if (t >= this.countryAt) {
          this.country = country;
          this.countryAt = t;
        }
        for (const x of this.#obs) {
          if (
            x.country !== null && x.country !== country && Math.abs(x.t - t) < o.travelWindowMs
          ) {
            this.#travelAt.push(Math.max(x.t, t));
          }
        }
      }
    }
    this.#obs.push({ t, w: engagementWeight(event), failed, country });
    if (t > this.lastEventAt) this.lastEventAt = t;
    this.#prune(o);
    return this.figuresAt(t, o);
  }

  /** The figures of an event at `t` (a duplicate gets them without being added). */
  figuresAt(t: number, o: ResolvedRiskOptions): UserFigures {
    let score = 0;
    let failed = 0;
    let sameMinute = 0;
    const minute = t - (((t % 60_000) + 60_000) % 60_000);
    for (const x of this.#obs) {
      if (x.t > t) continue;
      if (x.t > t - o.engagementWindowMs) score += x.w;
      if (x.failed && x.t > t - o.failedWindowMs) failed++;
      if (x.t >= minute) sameMinute++;
    }
    const flags: string[] = [];
    if (failed >= o.failedLogins) flags.push(RISK_FLAGS.failedLoginBurst);
    if (this.#travelAt.some((a) => a <= t && t < a + o.travelWindowMs)) {
      flags.push(RISK_FLAGS.impossibleTravel);
    }
    if (sameMinute > o.maxEventsPerMinute) flags.push(RISK_FLAGS.highEventVolume);
    return {
      device: this.device,
      country: this.country,
      engagementScore: Math.round(score * 100) / 100,
      riskFlags: flags,
    };
  }

  /** Events kept (for tests and memory metrics). */
  get size(): number {
    return this.#obs.length;
  }

  #prune(o: ResolvedRiskOptions): void {
    const keep = Math.max(o.engagementWindowMs, o.failedWindowMs, 2 * o.travelWindowMs);
    const limit = this.lastEventAt - keep;
    if (this.#obs.length > 0 && (this.#obs.length % 32 === 0 || this.#obs[0].t < limit)) {
      this.#obs = this.#obs.filter((x) => x.t >= limit);
    }
    if (this.#travelAt.length > 0 && this.#travelAt[0] < limit) {
      this.#travelAt = this.#travelAt.filter((a) => a >= limit);
    }
  }
}
