/**
 * One user session as a script of timed events: login, browsing (clickstream + app events), video
 * watching, assessments, course actions, searches, purchases, profile edits, logout. Used by
 * traffic.ts; all randomness comes from the context's PRNG.
 */
import type { TopicKey } from "../shared/config.ts";
import { cumulativeWeights, type Rng } from "./_rng.ts";
import type { Course, Population, User } from "./population.ts";

type Body = Record<string, unknown>;

/** What a session script needs from the simulator. */
export interface SessionContext {
  rng: Rng;
  pop: Population;
  /** Events at or after this instant are not generated. */
  endMs: number;
  /** Adds the common fields (event_id, user_id, timestamp) and schedules the event. */
  emit(topic: Exclude<TopicKey, "CDC">, user: User, t: number, fields: Body): void;
  /** Applies a profile change to the `users` row and schedules its CDC `u` event. */
  updateRow(user: User, t: number, changes: Body): void;
  /** The user's course progress (course id → percent), mutable. */
  progress(user: User): Map<string, number>;
  /** A fresh session id. */
  sessionId(): string;
}

const SITE = "https://learn.example.org";
const EXTERNAL = [
  null,
  "https://www.google.com/",
  "https://duckduckgo.com/",
  "https://t.co/x1",
  "https://mail.example.com/",
  "android-app://com.google.android.gm",
];
const ACTIVITIES = [
  "browse",
  "course",
  "video",
  "assessment",
  "enroll",
  "search",
  "purchase",
  "profile",
] as const;
type Activity = typeof ACTIVITIES[number];
const ACTIVITY_CUM = cumulativeWeights([30, 12, 30, 8, 8, 7, 2, 3]);
const QUERIES = [
  "sql joins",
  "rust ownership",
  "derivatives",
  "kafka",
  "color wheel",
  "past tense",
  "pitch deck",
  "mitosis",
  "big o",
];
const PROFILE_FIELDS = [
  "display_name",
  "locale",
  "bio",
  "notifications_opt_in",
  "avatar_url",
  "timezone",
];

/**
 * One session of `user` starting at `start`, as a lazy script: each step emits its events (all at
 * or after the step's time) and yields the time the script resumes at; later steps never emit
 * events before that time. The simulator keeps one heap entry per live session.
 */
export function* sessionScript(ctx: SessionContext, user: User, start: number): Generator<number> {
  const { rng } = ctx;
  const device = rng.pick(user.devices);
  const appType = rng.chance(0.03) ? "api" : device.type === "web" ? "web" : "mobile";
  const sid = ctx.sessionId();
  const country = rng.chance(0.03)
    ? rng.pick(["US", "GB", "DE", "IN", "FR", "ES", "TH"])
    : user.country;
  let t = start;
  if (rng.chance(0.04)) {
    ctx.emit("AUTH", user, t, {
      action: "login_failed",
      device: device.type,
      country,
      reason: "bad_password",
    });
    t += rng.int(3_000, 40_000);
  }
  ctx.emit("AUTH", user, t, {
    action: "login",
    session_id: sid,
    device: device.type,
    country,
    device_id: device.id,
    os: device.os,
  });
  let prevPage: string | null = rng.pick(EXTERNAL);
  const page = (at: number, path: string, element?: string) => {
    const url = SITE + path;
    const fields: Body = { session_id: sid, page_url: url, referrer: prevPage };
    if (element) fields.element = element;
    ctx.emit("CLICKSTREAM", user, at, fields);
    ctx.emit("APP_EVENTS", user, at + rng.int(5, 400), {
      event_type: "page_view",
      app_type: appType,
      session_id: sid,
      properties: { path, device_id: device.id },
    });
    prevPage = url;
  };
  const app = (at: number, eventType: string, properties: Body) =>
    ctx.emit("APP_EVENTS", user, at, {
      event_type: eventType,
      app_type: appType,
      session_id: sid,
      properties,
    });
  const courseFor = (): Course => {
    const mine = [...ctx.progress(user).keys()];
    if (mine.length > 0 && rng.chance(0.7)) {
      return ctx.pop.courses[Number(rng.pick(mine).slice(1)) - 1];
    }
    return rng.pickWeighted(ctx.pop.courses, ctx.pop.courseWeights);
  };

  page(t + rng.int(200, 3_000), rng.chance(0.7) ? "/home" : `/courses/${courseFor().id}`);
  const steps = 1 + Math.min(40, Math.floor(rng.exp(7)));
  for (let i = 0; i < steps; i++) {
    t += Math.min(600_000, 1_000 + Math.floor(rng.exp(20_000)));
    if (rng.chance(0.015)) t += rng.int(31, 120) * 60_000; // walked away: a new click session
    if (t >= ctx.endMs) return;
    yield t;
    const act: Activity = rng.pickWeighted(ACTIVITIES, ACTIVITY_CUM);
    const c = courseFor();
    switch (act) {
      case "browse": {
        const path = rng.pick([
          "/home",
          "/courses",
          `/catalog?category=${c.category}`,
          "/notifications",
          "/profile",
        ]);
        page(t, path, rng.chance(0.3) ? "nav-link" : undefined);
        if (rng.chance(0.4)) {
          app(t + rng.int(1_000, 20_000), "scroll", { path, depth_pct: rng.int(10, 100) });
        }
        break;
      }
      case "course":
        page(t, `/courses/${c.id}`, "course-card");
        app(t + rng.int(500, 5_000), "click", { element: "syllabus-tab", course_id: c.id });
        break;
      case "search": {
        const q = rng.pick(QUERIES);
        app(t, "search", { query: q, results: rng.int(0, 40) });
        page(t + rng.int(300, 2_000), `/search?q=${encodeURIComponent(q)}`);
        break;
      }
      case "video":
        t = yield* watchVideo(ctx, user, c, t, page, app);
        break;
      case "assessment":
        t = takeAssessment(ctx, user, c, t, page);
        break;
      case "enroll":
        t = courseAction(ctx, user, c, t, page, app);
        break;
      case "purchase": {
        page(t, `/checkout?course=${c.id}`, "buy-button");
        t += rng.int(10_000, 120_000);
        app(t, "purchase", {
          course_id: c.id,
          amount: rng.pick([9.99, 19.99, 49, 99]),
          currency: "USD",
        });
        page(t + rng.int(500, 3_000), "/checkout/success");
        if (!ctx.progress(user).has(c.id)) {
          ctx.progress(user).set(c.id, 0);
          ctx.emit("COURSE", user, t + rng.int(1_000, 4_000), {
            course_id: c.id,
            action: "enrolled",
            source: "purchase",
          });
        }
        break;
      }
      case "profile": {
        page(t, "/settings", "edit-profile");
        t += rng.int(5_000, 90_000);
        const field = rng.pick(PROFILE_FIELDS);
        const value = field === "notifications_opt_in"
          ? rng.chance(0.5)
          : field === "locale"
          ? rng.pick(["en-US", "es-ES", "fr-FR", "pt-BR", "hi-IN", "ja-JP"])
          : field === "timezone"
          ? rng.pick(["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"])
          : `${field}-${rng.hex(6)}`;
        const changes = { [field]: value };
        ctx.emit("PROFILE", user, t, { changes });
        ctx.updateRow(user, t + rng.int(5, 300), changes);
        break;
      }
    }
  }
  if (rng.chance(0.7)) {
    ctx.emit("AUTH", user, t + rng.int(1_000, 20_000), {
      action: "logout",
      session_id: sid,
      device: device.type,
    });
  }
}

type PageFn = (at: number, path: string, element?: string) => void;
type AppFn = (at: number, eventType: string, properties: Body) => void;

function* watchVideo(
  ctx: SessionContext,
  user: User,
  c: Course,
  t: number,
  page: PageFn,
  app: AppFn,
): Generator<number, number> {
  const { rng } = ctx;
  const v = rng.pick(c.videos);
  page(t, `/courses/${c.id}/videos/${v.id}`, "video-tile");
  t += rng.int(500, 4_000);
  app(t, "click", { element: "play-button", video_id: v.id });
  let pos = rng.chance(0.3) ? rng.int(0, Math.floor(v.durationSec / 2)) : 0;
  const fields = { video_id: v.id, course_id: c.id };
  let budget = Math.max(30, Math.floor(rng.exp(480)));
  const segments = rng.int(1, 3);
  for (let s = 0; s < segments && pos < v.durationSec; s++) {
    if (s > 0) {
      t += rng.int(5_000, 120_000);
      if (rng.chance(0.4)) {
        const to = rng.int(0, v.durationSec - 1);
        ctx.emit("VIDEO", user, t, { ...fields, action: "seek", position_sec: to, from_sec: pos });
        pos = to;
        t += rng.int(200, 2_000);
      }
    }
    ctx.emit("VIDEO", user, t, { ...fields, action: "play", position_sec: pos });
    const watch = Math.min(
      v.durationSec - pos,
      s === segments - 1 ? budget : Math.floor(budget / 2),
    );
    budget -= watch;
    let w = 0;
    while (w < watch) {
      const step = Math.min(30, watch - w);
      w += step;
      if (w % 150 === 0) yield t + w * 1000; // resume every 5 heartbeats
      ctx.emit("VIDEO", user, t + w * 1000, {
        ...fields,
        action: "heartbeat",
        watched_sec: step,
        position_sec: pos + w,
      });
    }
    pos += watch;
    t += watch * 1000 + rng.int(100, 900);
    if (pos >= v.durationSec) {
      ctx.emit("VIDEO", user, t, { ...fields, action: "complete", position_sec: pos });
      return t;
    }
    if (s < segments - 1 || rng.chance(0.5)) {
      ctx.emit("VIDEO", user, t, { ...fields, action: "pause", position_sec: pos });
    }
  }
  return t;
}

function takeAssessment(
  ctx: SessionContext,
  user: User,
  c: Course,
  t: number,
  page: PageFn,
): number {
  const { rng } = ctx;
  const a = rng.pick(c.assessments);
  const fields = { assessment_id: a.id, course_id: c.id };
  page(t, `/courses/${c.id}/assessments/${a.id}`, "start-quiz");
  t += rng.int(500, 5_000);
  ctx.emit("ASSESSMENT", user, t, { ...fields, action: "started", attempt: rng.int(1, 3) });
  const duration = rng.int(60, 1_200);
  t += duration * 1000;
  if (!rng.chance(0.88)) return t; // abandoned
  ctx.emit("ASSESSMENT", user, t, { ...fields, action: "submitted", duration_sec: duration });
  page(t + rng.int(200, 1_500), `/courses/${c.id}/assessments/${a.id}/result`);
  t += rng.int(1_000, 30_000);
  const noise = (rng.next() + rng.next() + rng.next() - 1.5) * 0.35;
  const frac = Math.min(1, Math.max(0, a.difficulty + noise));
  const score = Math.round(frac * a.maxScore * 2) / 2;
  ctx.emit("ASSESSMENT", user, t, {
    ...fields,
    action: "graded",
    score,
    max_score: a.maxScore,
    duration_sec: duration,
  });
  return t;
}

function courseAction(
  ctx: SessionContext,
  user: User,
  c: Course,
  t: number,
  page: PageFn,
  app: AppFn,
): number {
  const { rng } = ctx;
  const progress = ctx.progress(user);
  const pct = progress.get(c.id);
  if (pct === undefined) {
    page(t, `/courses/${c.id}`, "enroll-button");
    app(t + rng.int(100, 900), "click", { element: "enroll-button", course_id: c.id });
    ctx.emit("COURSE", user, t + rng.int(1_000, 3_000), {
      course_id: c.id,
      action: "enrolled",
      source: "catalog",
    });
    progress.set(c.id, 0);
    return t + 3_000;
  }
  if (rng.chance(0.05)) {
    ctx.emit("COURSE", user, t, { course_id: c.id, action: "unenrolled", progress_pct: pct });
    progress.delete(c.id);
    return t;
  }
  const next = Math.min(100, pct + rng.int(5, 30));
  progress.set(c.id, next);
  page(t, `/courses/${c.id}/progress`);
  ctx.emit("COURSE", user, t + rng.int(200, 2_000), {
    course_id: c.id,
    action: "progress",
    progress_pct: next,
  });
  if (next === 100) {
    t += rng.int(2_000, 5_000);
    ctx.emit("COURSE", user, t, { course_id: c.id, action: "completed", progress_pct: 100 });
    progress.delete(c.id);
  }
  return t + 2_000;
}
