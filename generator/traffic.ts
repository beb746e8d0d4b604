/**
 * @module
 * The traffic simulator: valid events of every topic in event-time order, from a population and a
 * seed. Sessions start as a Poisson process shaped by each user's local time of day; notification
 * funnels run per channel; the `users` table's changes come out as Debezium CDC events (snapshot
 * `r` at the start, `c` on sign-up, `u` on profile edits, `d` on deletion). Malformed records,
 * duplicates and delays are added by generate.ts.
 */
import type { TopicKey } from "../shared/config.ts";
import { MinHeap } from "./_heap.ts";
import { Rng } from "./_rng.ts";
import { type SessionContext, sessionScript } from "./_session.ts";
import type { Population, User } from "./population.ts";

type Body = Record<string, unknown>;

/** A valid event in event-time order, serialised. */
export interface SimEvent {
  topic: TopicKey;
  /** Message key: the user id; CDC: the Debezium key `{"id":"…"}`. */
  key: string;
  /** The message value (JSON; CDC: the payload, bare or wrapped as `{schema, payload}`). */
  value: string;
  eventTime: number;
  /** The user the event is about. */
  userId: string;
  /** CDC only: the operation (a `d` is followed by a tombstone). */
  op?: "c" | "u" | "d" | "r";
  /** CDC only: the value is wrapped as `{schema, payload}`. */
  wrapped?: boolean;
}

/** Options of {@link Traffic}. */
export interface TrafficOptions {
  seed: number;
  startMs: number;
  /** Exclusive end of event time; may be Infinity. */
  endMs: number;
  /** Target valid events per second of event time (averaged over a day). */
  eventsPerSecond: number;
  /** Emit a CDC snapshot (`op: r`) of existing users at the start; default true. */
  cdcSnapshot?: boolean;
  /** When the snapshot is taken; default `startMs`. */
  snapshotMs?: number;
  /** Shape session starts by the users' local time of day; default true. */
  diurnal?: boolean;
}

const CHANNELS = ["email", "push", "in_app", "sms"] as const;
const CHANNEL_CUM = [40, 75, 90, 100];
const FUNNEL: Record<
  string,
  { fail: number; deliver: [number, number]; open: number; click: number }
> = {
  email: { fail: 0.04, deliver: [1_000, 30_000], open: 0.25, click: 0.3 },
  push: { fail: 0.06, deliver: [300, 5_000], open: 0.4, click: 0.35 },
  in_app: { fail: 0.01, deliver: [100, 2_000], open: 0.6, click: 0.4 },
  sms: { fail: 0.08, deliver: [2_000, 20_000], open: 0.2, click: 0.15 },
};
const TEMPLATES = [
  "streak_reminder",
  "new_course",
  "quiz_due",
  "weekly_digest",
  "promo",
  "course_update",
];

/** Activity by local hour (0..23): quiet at night, peaks in the evening. */
const HOURLY = [
  0.15,
  0.08,
  0.05,
  0.04,
  0.05,
  0.1,
  0.25,
  0.45,
  0.6,
  0.65,
  0.65,
  0.7,
  0.75,
  0.7,
  0.65,
  0.65,
  0.7,
  0.8,
  0.9,
  1,
  1,
  0.9,
  0.6,
  0.3,
];
const MEAN_HOURLY = HOURLY.reduce((a, b) => a + b, 0) / 24;

/** A scheduled event or trigger; one class so the heap's compare stays monomorphic. */
class Item {
  seq = 0;
  constructor(
    readonly at: number,
    readonly ev: SimEvent | undefined,
    /** 0: next session start, 1: next notification, 2: sign-up session of `user`, 3: resume
     * `script`, -1: event. */
    readonly trigger: -1 | 0 | 1 | 2 | 3,
    readonly user: User | undefined,
    readonly script?: Generator<number>,
  ) {}
}

/** The valid-event stream; pull with {@link Traffic.next}. */
export class Traffic {
  readonly #pop: Population;
  readonly #rng: Rng;
  readonly #opts: TrafficOptions;
  readonly #heap = new MinHeap<Item>();
  readonly #progress = new Map<string, Map<string, number>>();
  readonly #rows = new Map<string, Body>();
  readonly #ctx: SessionContext;
  #seq = 0;
  #ids = 0;
  #sessionMeanMs = 1_000;
  #notifyMeanMs = 1_000;
  #txId = 1000;
  #lsn = 1;

  /**
   * @param pop the population (read only; all mutable state lives here)
   * @param options seed, span and rate
   */
  constructor(pop: Population, options: TrafficOptions) {
    this.#pop = pop;
    this.#opts = options;
    this.#rng = new Rng(options.seed);
    this.#ctx = {
      rng: this.#rng,
      pop,
      endMs: options.endMs,
      emit: (topic, user, t, fields) => this.#emit(topic, user, t, fields),
      updateRow: (user, t, changes) => this.#update(user, t, changes),
      progress: (user) => this.#progressOf(user),
      sessionId: () => `s-${this.#rng.hex(16)}`,
    };
    for (const u of pop.users) this.#rows.set(u.id, rowOf(u));
    // eventsPerSecond 0 is the calibration probe: nothing is scheduled by itself.
    if (options.eventsPerSecond <= 0) return;
    this.#calibrate();
    const { startMs, endMs } = options;
    const snapshotMs = options.snapshotMs ?? startMs;
    if (options.cdcSnapshot ?? true) {
      let i = 0;
      for (const u of pop.users) {
        if (u.createdAt < snapshotMs) {
          this.#cdc(u, snapshotMs + 50 + 2 * i++, "r", null, this.#rows.get(u.id)!);
        }
      }
    }
    for (const u of pop.users) {
      if (u.createdAt >= startMs && u.createdAt < endMs) {
        this.#cdc(u, u.createdAt, "c", null, this.#rows.get(u.id)!);
        this.#push(new Item(u.createdAt + this.#rng.int(20_000, 300_000), undefined, 2, u));
      }
      if (u.deletedAt !== undefined && u.deletedAt < endMs) {
        this.#cdc(u, u.deletedAt, "d", this.#rows.get(u.id)!, null);
      }
    }
    this.#push(new Item(startMs + this.#gap(this.#sessionMeanMs), undefined, 0, undefined));
    this.#push(new Item(startMs + this.#gap(this.#notifyMeanMs), undefined, 1, undefined));
  }

  /** Event time of the next event, Infinity when the stream is exhausted. */
  peekTime(): number {
    this.#settle();
    return this.#heap.peek()?.at ?? Infinity;
  }

  /** The next valid event in event-time order (ties in scheduling order), or undefined at the end. */
  next(): SimEvent | undefined {
    this.#settle();
    return this.#heap.pop()?.ev;
  }

  /** Runs triggers at the top of the heap until an event is on top. */
  #settle(): void {
    for (;;) {
      const top = this.#heap.peek();
      if (!top || top.trigger < 0) return;
      this.#heap.pop();
      if (top.trigger === 0) {
        this.#push(new Item(top.at + this.#gap(this.#sessionMeanMs), undefined, 0, undefined));
        const u = this.#rng.pickWeighted(this.#pop.users, this.#pop.userWeights);
        if (this.#accept(u, top.at)) this.#run(sessionScript(this.#ctx, u, top.at));
      } else if (top.trigger === 1) {
        this.#push(new Item(top.at + this.#gap(this.#notifyMeanMs), undefined, 1, undefined));
        const u = this.#rng.pick(this.#pop.users);
        if (this.#alive(u, top.at)) this.#run(this.#funnel(u, top.at));
      } else if (top.trigger === 3) {
        this.#run(top.script!);
      } else if (top.user && this.#alive(top.user, top.at)) {
        this.#run(sessionScript(this.#ctx, top.user, top.at));
      }
    }
  }

  #push(item: Item): void {
    if (item.at >= this.#opts.endMs) return;
    item.seq = this.#seq++;
    this.#heap.push(item);
  }

  /** Whole milliseconds between Poisson arrivals of the given mean. */
  #gap(meanMs: number): number {
    return Math.round(this.#rng.exp(meanMs));
  }

  #alive(u: User, t: number): boolean {
    return u.createdAt <= t && (u.deletedAt === undefined || t < u.deletedAt);
  }

  #accept(u: User, t: number): boolean {
    if (!this.#alive(u, t)) return false;
    if (this.#opts.diurnal === false) return true;
    const local = Math.floor(((t / 3_600_000) + u.tzOffsetMin / 60) % 24 + 24) % 24;
    return this.#rng.next() < HOURLY[local];
  }

  #progressOf(u: User): Map<string, number> {
    let m = this.#progress.get(u.id);
    if (!m) this.#progress.set(u.id, m = new Map());
    return m;
  }

  #eventId(): string {
    const r = this.#rng;
    const a = r.u32();
    const b = r.u32();
    const n = (this.#ids++).toString(16).padStart(12, "0");
    return `${hex8(a)}-${hex4(b >>> 16)}-4${hex4(b & 0xfff).slice(1)}-${HEX[8 + (a & 3)]}${
      hex4(r.u32() & 0xfff).slice(1)
    }-${n}`;
  }

  #timestamp(t: number, u: User): string | number {
    const x = this.#rng.next();
    if (x < 0.8) return new Date(t).toISOString();
    if (x < 0.9) return t;
    const off = u.tzOffsetMin;
    const local = new Date(t + off * 60_000).toISOString().slice(0, 23);
    const a = Math.abs(off);
    const hh = String(Math.floor(a / 60)).padStart(2, "0");
    const mm = String(a % 60).padStart(2, "0");
    return `${local}${off < 0 ? "-" : "+"}${hh}:${mm}`;
  }

  #emit(topic: Exclude<TopicKey, "CDC">, u: User, t: number, fields: Body): void {
    if (t >= this.#opts.endMs || !this.#alive(u, t)) return;
    // Built as text: the common fields are plain ASCII, the topic's fields go through JSON.
    const ts = this.#timestamp(t, u);
    const rest = JSON.stringify(fields);
    const client = this.#rng.chance(0.2) ? `,"client":${clientJson(u)}` : "";
    const value = `{"event_id":"${this.#eventId()}","user_id":"${u.id}","timestamp":${
      typeof ts === "number" ? ts : `"${ts}"`
    }${rest.length > 2 ? "," : ""}${rest.slice(1, -1)}${client}}`;
    this.#push(new Item(t, { topic, key: u.id, value, eventTime: t, userId: u.id }, -1, undefined));
  }

  /** Runs a script to its next pause and schedules its resumption. */
  #run(script: Generator<number>): void {
    const r = script.next();
    if (!r.done) this.#push(new Item(r.value, undefined, 3, undefined, script));
  }

  /** One notification's funnel: sent, then failed or delivered, maybe opened, maybe clicked. */
  *#funnel(u: User, t: number): Generator<number> {
    const rng = this.#rng;
    const channel = rng.pickWeighted(CHANNELS, CHANNEL_CUM);
    const f = FUNNEL[channel];
    const fields = { notification_id: `n-${rng.hex(12)}`, channel, template: rng.pick(TEMPLATES) };
    this.#emit("NOTIFICATION", u, t, { ...fields, action: "sent" });
    t += rng.int(f.deliver[0], f.deliver[1]);
    if (rng.chance(f.fail)) {
      this.#emit("NOTIFICATION", u, t, { ...fields, action: "failed", error: "provider_rejected" });
      return;
    }
    this.#emit("NOTIFICATION", u, t, { ...fields, action: "delivered" });
    if (!rng.chance(f.open)) return;
    t += Math.min(6 * 3_600_000, 5_000 + Math.floor(rng.exp(20 * 60_000)));
    yield t;
    this.#emit("NOTIFICATION", u, t, { ...fields, action: "opened" });
    if (!rng.chance(f.click)) return;
    this.#emit("NOTIFICATION", u, t + rng.int(2_000, 60_000), { ...fields, action: "clicked" });
  }

  #update(u: User, t: number, changes: Body): void {
    if (t >= this.#opts.endMs || !this.#alive(u, t)) return;
    const before = this.#rows.get(u.id)!;
    const after = { ...before, ...changes, updated_at: t };
    this.#rows.set(u.id, after);
    this.#cdc(u, t, "u", before, after);
  }

  #cdc(
    u: User,
    t: number,
    op: "c" | "u" | "d" | "r",
    before: Body | null,
    after: Body | null,
  ): void {
    const rng = this.#rng;
    const body: Body = {
      before,
      after,
      source: {
        version: "2.7.3.Final",
        connector: "postgresql",
        name: "edu",
        ts_ms: op === "r" ? t : t - rng.int(1, 40),
        snapshot: op === "r" ? "true" : "false",
        db: "edu",
        schema: "public",
        table: "users",
        txId: this.#txId++,
        lsn: this.#lsn += rng.int(64, 4096),
      },
      op,
      ts_ms: t,
      transaction: null,
    };
    const key = JSON.stringify({ id: u.id });
    const wrapped = rng.chance(0.5);
    const payload = JSON.stringify(body);
    const value = wrapped ? `{"schema":${USERS_ENVELOPE_SCHEMA},"payload":${payload}}` : payload;
    const ev: SimEvent = { topic: "CDC", key, value, eventTime: t, userId: u.id, op, wrapped };
    this.#push(new Item(t, ev, -1, undefined));
  }

  /** Measures events per session and per notification on a throwaway copy, then sets the rates. */
  #calibrate(): void {
    const probe = new Traffic(this.#pop, {
      seed: this.#opts.seed ^ 0x7e57,
      startMs: 0,
      endMs: Infinity,
      eventsPerSecond: 0,
      cdcSnapshot: false,
      diurnal: false,
    });
    const n = 400;
    for (let i = 0; i < n; i++) {
      const u = probe.#pop.users[i % probe.#pop.users.length];
      const alive = { ...u, createdAt: -Infinity, deletedAt: undefined };
      for (const _ of sessionScript(probe.#ctx, alive, i * 86_400_000)) { /* run to the end */ }
      for (const _ of probe.#funnel(alive, i * 86_400_000 + 1)) { /* run to the end */ }
    }
    let sessionEvents = 0;
    let notifyEvents = 0;
    for (let ev = probe.next(); ev; ev = probe.next()) {
      if (ev.topic === "NOTIFICATION") notifyEvents++;
      else sessionEvents++;
    }
    const perSession = sessionEvents / n;
    const perNotification = notifyEvents / n;
    const rate = this.#opts.eventsPerSecond;
    const acceptance = this.#opts.diurnal === false ? 1 : MEAN_HOURLY;
    const meanAlive = 1; // sign-ups and deletions are small corrections
    this.#sessionMeanMs = 1000 * acceptance * meanAlive / (0.9 * rate / perSession);
    this.#notifyMeanMs = 1000 / (0.1 * rate / perNotification);
  }
}

const HEX = "0123456789abcdef";
const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function hex4(x: number): string {
  return BYTE_HEX[(x >>> 8) & 255] + BYTE_HEX[x & 255];
}
function hex8(x: number): string {
  return hex4(x >>> 16) + hex4(x & 0xffff);
}

const clientCache = new WeakMap<User, string>();
function clientJson(u: User): string {
  let s = clientCache.get(u);
  if (s === undefined) {
    s = JSON.stringify({ app_version: "5.12.3", platform: u.devices[0].os });
    clientCache.set(u, s);
  }
  return s;
}

function rowOf(u: User): Body {
  return {
    id: u.id,
    email: u.email,
    display_name: u.name,
    country: u.country,
    locale: u.locale,
    plan: u.plan,
    created_at: u.createdAt,
    updated_at: u.createdAt,
  };
}

/** The Debezium JSON-converter schema of the `users` change-event envelope. */
const USERS_ENVELOPE_SCHEMA = (() => {
  const row = (name: string) => ({
    type: "struct",
    optional: true,
    name,
    fields: [
      { type: "string", optional: false, field: "id" },
      { type: "string", optional: true, field: "email" },
      { type: "string", optional: true, field: "display_name" },
      { type: "string", optional: true, field: "country" },
      { type: "string", optional: true, field: "locale" },
      { type: "string", optional: true, field: "plan" },
      { type: "int64", optional: true, name: "io.debezium.time.Timestamp", field: "created_at" },
      { type: "int64", optional: true, name: "io.debezium.time.Timestamp", field: "updated_at" },
    ],
    field: name.endsWith("Before") ? "before" : "after",
  });
  return JSON.stringify({
    type: "struct",
    optional: false,
    name: "edu.public.users.Envelope",
    version: 2,
    fields: [
      { ...row("edu.public.users.ValueBefore"), name: "edu.public.users.Value" },
      { ...row("edu.public.users.ValueAfter"), name: "edu.public.users.Value" },
      {
        type: "struct",
        optional: false,
        name: "io.debezium.connector.postgresql.Source",
        field: "source",
        fields: [
          { type: "string", optional: false, field: "version" },
          { type: "string", optional: false, field: "connector" },
          { type: "string", optional: false, field: "name" },
          { type: "int64", optional: false, field: "ts_ms" },
          { type: "string", optional: true, field: "snapshot" },
          { type: "string", optional: false, field: "db" },
          { type: "string", optional: false, field: "schema" },
          { type: "string", optional: false, field: "table" },
          { type: "int64", optional: true, field: "txId" },
          { type: "int64", optional: true, field: "lsn" },
        ],
      },
      { type: "string", optional: false, field: "op" },
      { type: "int64", optional: true, field: "ts_ms" },
    ],
  });
})();
