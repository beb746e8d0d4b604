/**
 * @module
 * `clickstream_analysis` (the seed's job): clickstream sessions per (user, session_id), closed by
 * 30 minutes without a click, written to `clickstream_sessions` while open (`closed = false`) and
 * once more when the watermark closes them. A session's row is keyed by its start; when the start
 * moves (an earlier click, a merge) the rows under its old starts are deleted.
 */
import type { ValidEvent } from "../../../shared/events.ts";
import { SessionWindows } from "../../operators/session.ts";
import type { ReplayPoint } from "../../operators/replay_point.ts";
import type { EventContext, JobDefinition, RecordMeta } from "../../runtime/task.ts";
import { CLICKSTREAM_SESSIONS } from "../../store/tables.ts";
import type { RowWrite } from "../../store/view_store.ts";
import { viewJob, type ViewJobDeps } from "../view_job.ts";
import type { PartEnv, ViewPart } from "../view_task.ts";
import { addClick, type ClickSession, emptySession, mergeSessions } from "./sessions.ts";

/** Options of {@link SessionPart}. */
export interface SessionPartOptions {
  /** Session gap; default 1800000 (30 min). */
  gapMs?: number;
}

/** Sessions of one clickstream partition. */
export class SessionPart implements ViewPart {
  #env: PartEnv;
  #sessions: SessionWindows<ClickSession>;

  constructor(env: PartEnv, options: SessionPartOptions = {}) {
    this.#env = env;
    this.#sessions = new SessionWindows<ClickSession>({
      gapMs: options.gapMs,
      init: (key) => {
        const cut = key.indexOf("\u0000");
        return emptySession(key.slice(0, cut), key.slice(cut + 1));
      },
      merge: mergeSessions,
    });
  }

  apply(event: ValidEvent, meta: RecordMeta, ctx: EventContext, replaying: boolean): void {
    if (event.topic !== "CLICKSTREAM") return;
    const d = event.data;
    const s = this.#sessions.add(
      `${d.user_id}\u0000${d.session_id}`,
      event.eventTime,
      meta.offset,
      ctx.maxEventTimeBefore,
      replaying,
    );
    addClick(s.state, { t: event.eventTime, offset: meta.offset, page: d.page_url });
  }

  advance(watermark: number, offset: number, replaying: boolean): void {
    this.#sessions.closeThrough(watermark, offset, replaying);
  }

  drain(out: RowWrite[]): void {
    for (const { session: s, staleStarts } of this.#sessions.drainDirty()) {
      const c = s.state;
      for (const start of staleStarts) {
        out.push({
          table: CLICKSTREAM_SESSIONS,
          op: "delete",
          values: [c.userId, start, c.sessionId],
          version: s.version,
        });
      }
      out.push({
        table: CLICKSTREAM_SESSIONS,
        op: "upsert",
        values: [
          c.userId,
          s.start,
          c.sessionId,
          s.end,
          (s.end - s.start) / 1000,
          c.clicks,
          c.pages.size,
          c.path.map((p) => p.page),
          s.closed,
          this.#env.kpart,
        ],
        version: s.version,
      });
    }
  }

  replayPoint(): ReplayPoint | undefined {
    return this.#sessions.replayPoint();
  }
}

/** The `clickstream_analysis` job. */
export function clickstreamAnalysisJob(deps: ViewJobDeps): JobDefinition {
  return viewJob(
    "clickstream_analysis",
    ["CLICKSTREAM"],
    (_t, env) => [new SessionPart(env)],
    deps,
  );
}
