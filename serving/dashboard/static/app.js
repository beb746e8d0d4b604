// The dashboard page: asks the serving layer's GraphQL API (CONTRACTS.md §4) and /api/dashboard,
// draws the series with uPlot (served locally, no internet) and refreshes itself. Every figure
// shown is a GraphQL answer (or /api/dashboard's), unchanged, so it can be checked against them.
/* global uPlot */

const HOUR = 3_600_000;
const MINUTE = 60_000;
const FAST_MS = 5_000;
const SLOW_MS = 15_000;
const CHUNK = 10; // root fields per GraphQL request (well inside the alias and cost limits)

const endpoint = document.querySelector('meta[name="graphql-endpoint"]').content || "/graphql";
const params = new URLSearchParams(location.search);
const hoursBack = intParam("hours", 96, 2, 24 * 60);
const topN = intParam("top", 10, 1, 50);
// Past days are usually generated far sparser than live traffic: a log scale shows both.
let hoursLog = params.get("log") === "1";

/** Everything fetched, for the page and for tests (`window.__dashboard.state`). */
const state = {
  status: null,
  minutes: null,
  hours: null,
  courses: null,
  assessments: null,
  api: null,
  ranges: {},
  errors: {},
  fastRuns: 0,
  slowRuns: 0,
};
const charts = {};

function intParam(name, fallback, min, max) {
  const n = Number(params.get(name));
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

const floorTo = (t, size) => Math.floor(t / size) * size;
const iso = (t) => new Date(t).toISOString().replace(".000Z", "Z");
const fmtInt = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"));
const fmtPct = (n) => (n === null || n === undefined ? "–" : `${n.toFixed(1)} %`);

function fmtTime(value) {
  if (!value) return "–";
  const d = new Date(value);
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function fmtAgo(value) {
  if (!value) return "";
  const s = Math.round((Date.now() - Date.parse(value)) / 1000);
  if (s < 0) return "in the future";
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "style") e.setAttribute("style", v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function setValue(testId, text, raw) {
  const node = document.querySelector(`[data-testid="${testId}"]`);
  node.textContent = text;
  node.dataset.value = raw === null || raw === undefined ? "" : String(raw);
}

// ---------------------------------------------------------------------------------------------
// Data

function token() {
  return localStorage.getItem("edu.servingToken") ?? "";
}

async function gql(query, variables) {
  const headers = { "content-type": "application/json", accept: "application/json" };
  if (token()) headers.authorization = `Bearer ${token()}`;
  const res = await fetch(endpoint, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  if (res.status === 401) {
    document.getElementById("auth").hidden = false;
    throw new Error("GraphQL asks for a bearer token");
  }
  const body = await res.json();
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

async function api() {
  const headers = token() ? { authorization: `Bearer ${token()}` } : {};
  const res = await fetch("/api/dashboard", { headers });
  if (!res.ok) throw new Error(`/api/dashboard answered ${res.status}`);
  return await res.json();
}

const PROVENANCE =
  "provenance { batchThrough realtimeWatermark freshnessMs complete gaps { start end } }";

const FAST_QUERY = `query DashboardFast($from: DateTime!, $to: DateTime!) {
  servingStatus { batchThrough realtimeWatermark lag { topic partition lag } }
  minutes: eventCounts(from: $from, to: $to, granularity: MINUTE) {
    total points { start end source count } ${PROVENANCE}
  }
}`;

const HOURS_QUERY = `query DashboardHours($from: DateTime!, $to: DateTime!) {
  hours: eventCounts(from: $from, to: $to, granularity: HOUR) {
    total points { start end source count } ${PROVENANCE}
  }
}`;

/** Asks one root field per id, CHUNK ids per request, and returns the answers in id order. */
async function perEntity(ids, field, fields, from, to) {
  const out = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const arg = field === "courseEngagement" ? "courseId" : "assessmentId";
    const body = chunk.map((id, j) =>
      `e${j}: ${field}(${arg}: ${JSON.stringify(id)}, from: $from, to: $to) { ${fields} }`
    ).join("\n");
    const data = await gql(
      `query DashboardEntities($from: DateTime!, $to: DateTime!) {\n${body}\n}`,
      { from, to },
    );
    chunk.forEach((_, j) => out.push(data[`e${j}`]));
  }
  return out;
}

async function fast() {
  const now = Date.now();
  const to = floorTo(now, MINUTE) + MINUTE;
  const from = to - 60 * MINUTE;
  state.ranges.minutes = { from: iso(from), to: iso(to) };
  const [g, a] = await Promise.allSettled([gql(FAST_QUERY, state.ranges.minutes), api()]);
  if (g.status === "fulfilled") {
    state.status = g.value.servingStatus;
    state.minutes = g.value.minutes;
    delete state.errors.fast;
  } else state.errors.fast = `GraphQL (status, minutes): ${g.reason.message}`;
  if (a.status === "fulfilled") {
    state.api = a.value;
    delete state.errors.api;
  } else state.errors.api = a.reason.message;
  state.fastRuns++;
  renderFast();
}

async function slow() {
  const now = Date.now();
  const to = floorTo(now, HOUR) + HOUR;
  state.ranges.hours = { from: iso(to - hoursBack * HOUR), to: iso(to) };
  state.ranges.day = { from: iso(to - 24 * HOUR), to: iso(to) };
  try {
    state.hours = (await gql(HOURS_QUERY, state.ranges.hours)).hours;
    delete state.errors.hours;
  } catch (e) {
    state.errors.hours = `GraphQL (hours): ${e.message}`;
  }
  const entities = state.api?.entities?.ok;
  if (entities) {
    const { from, to: end } = state.ranges.day;
    try {
      const courses = await perEntity(
        entities.courses,
        "courseEngagement",
        "courseId total { enrollments unenrollments completions activeUsers }",
        from,
        end,
      );
      courses.sort((a, b) =>
        b.total.activeUsers - a.total.activeUsers ||
        b.total.enrollments - a.total.enrollments || a.courseId.localeCompare(b.courseId)
      );
      state.courses = { range: state.ranges.day, rows: courses.slice(0, topN) };
      delete state.errors.courses;
    } catch (e) {
      state.errors.courses = `GraphQL (courses): ${e.message}`;
    }
    try {
      const rows = await perEntity(
        entities.assessments,
        "assessmentScores",
        "assessmentId total { graded avgPercent minPercent maxPercent p50Percent p95Percent }",
        from,
        end,
      );
      rows.sort((a, b) =>
        b.total.graded - a.total.graded || a.assessmentId.localeCompare(b.assessmentId)
      );
      state.assessments = {
        range: state.ranges.day,
        rows: rows.filter((r) => r.total.graded > 0).slice(0, topN),
      };
      delete state.errors.assessments;
    } catch (e) {
      state.errors.assessments = `GraphQL (assessments): ${e.message}`;
    }
  }
  state.slowRuns++;
  renderSlow();
}

// ---------------------------------------------------------------------------------------------
// Charts

function markers(getMarks) {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        const dpr = devicePixelRatio || 1;
        for (const m of getMarks()) {
          if (!m.t) continue;
          const x = Math.round(u.valToPos(Date.parse(m.t) / 1000, "x", true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.save();
          ctx.strokeStyle = m.color;
          ctx.fillStyle = m.color;
          ctx.lineWidth = 2 * dpr;
          if (m.dash) ctx.setLineDash(m.dash.map((d) => d * dpr));
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.font = `${11 * dpr}px system-ui, sans-serif`;
          const w = ctx.measureText(m.label).width;
          const right = x + 4 * dpr + w < u.bbox.left + u.bbox.width;
          ctx.fillText(
            m.label,
            right ? x + 4 * dpr : x - 4 * dpr - w,
            u.bbox.top + (m.row ?? 1) * 13 * dpr,
          );
          ctx.restore();
        }
      }],
    },
  };
}

function chart(id, series, getMarks, log = false) {
  const node = document.getElementById(id);
  const bars = uPlot.paths.bars({ size: [0.85, 60], align: 1 });
  const u = new uPlot(
    {
      width: Math.max(300, node.clientWidth),
      height: 240,
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: s.color + "cc",
          width: 0,
          paths: bars,
          points: { show: false },
          value: (_, v) => (v === null ? "–" : fmtInt(v)),
        })),
      ],
      axes: [{}, { size: 60, values: (_, ticks) => ticks.map(fmtInt) }],
      scales: {
        // The whole asked range, so the last bucket's bar is not cut off at the edge.
        x: {
          time: true,
          range: (_u, min, max) => {
            const r = node.dataset;
            return r.from ? [Date.parse(r.from) / 1000, Date.parse(r.to) / 1000] : [min, max];
          },
        },
        y: log
          ? { distr: 3, log: 10, range: (_u, _min, max) => [1, Math.max(10, max) * 2] }
          : { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      plugins: [markers(getMarks)],
    },
    [[], ...series.map(() => [])],
    node,
  );
  const resize = new ResizeObserver(() =>
    u.setSize({ width: Math.max(300, node.clientWidth), height: 240 })
  );
  resize.observe(node);
  return {
    setData: (data) => u.setData(data),
    destroy() {
      resize.disconnect();
      u.destroy();
    },
  };
}

const COLORS = { BATCH: "#2f6fdb", REALTIME: "#e8772e", MIXED: "#8b5cf6", boundary: "#d0342c" };

function boundaryMarks() {
  return [
    { t: state.status?.batchThrough, label: "batch | realtime", color: COLORS.boundary, row: 1 },
    {
      t: state.status?.realtimeWatermark,
      label: "watermark",
      color: "#6b7280",
      dash: [4, 3],
      row: 2,
    },
  ];
}

/** x = bucket starts (s); one series per source, null where another source answered (and 0 on a
 * log scale, which cannot show it). */
function seriesData(answer, sources, log = false) {
  const xs = answer.points.map((p) => Date.parse(p.start) / 1000);
  return [
    xs,
    ...sources.map((s) =>
      answer.points.map((p) => (p.source === s && !(log && p.count === 0) ? p.count : null))
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Rendering

function renderErrors() {
  const box = document.getElementById("errors");
  const messages = Object.values(state.errors);
  for (const part of ["dlq", "late", "entities"]) {
    const p = state.api?.[part];
    if (p?.error) messages.push(`/api/dashboard ${part}: ${p.error}`);
  }
  box.hidden = messages.length === 0;
  box.textContent = messages.join("\n");
}

function renderFast() {
  document.getElementById("updated").textContent = `updated ${
    new Date().toISOString().slice(11, 19)
  } UTC`;
  const s = state.status;
  if (s) {
    setValue("batch-through", fmtTime(s.batchThrough), s.batchThrough);
    setValue("realtime-watermark", fmtTime(s.realtimeWatermark), s.realtimeWatermark);
    document.querySelector('[data-testid="batch-through"]').title = fmtAgo(s.batchThrough);
    const total = s.lag.reduce((n, l) => n + l.lag, 0);
    setValue("lag-total", fmtInt(total), total);
    const byTopic = new Map();
    for (const l of s.lag) {
      const t = byTopic.get(l.topic) ?? { partitions: 0, lag: 0 };
      t.partitions++;
      t.lag += l.lag;
      byTopic.set(l.topic, t);
    }
    const rows = [...byTopic].sort((a, b) => b[1].lag - a[1].lag || a[0].localeCompare(b[0]));
    document.getElementById("lag-body").replaceChildren(
      ...(rows.length ? rows : [["(no partitions reported)", { partitions: 0, lag: 0 }]]).map((
        [topic, t],
      ) =>
        el(
          "tr",
          { "data-topic": topic },
          el("td", {}, topic),
          el("td", { class: "num" }, t.partitions),
          el(
            "td",
            { class: "num", "data-testid": `lag-${topic}`, "data-value": t.lag },
            fmtInt(t.lag),
          ),
        )
      ),
    );
  }
  const m = state.minutes;
  if (m) {
    setValue("freshness", fmtDuration(m.provenance.freshnessMs), m.provenance.freshnessMs);
    setValue("minutes-total", fmtInt(m.total), m.total);
    const node = document.getElementById("chart-minutes");
    node.dataset.from = state.ranges.minutes.from;
    node.dataset.to = state.ranges.minutes.to;
    node.dataset.points = String(m.points.filter((p) => p.count > 0).length);
    document.getElementById("minutes-range").textContent = `${
      fmtTime(state.ranges.minutes.from)
    } – ${fmtTime(state.ranges.minutes.to)} (realtime views)`;
    charts.minutes ??= chart(
      "chart-minutes",
      [{ label: "realtime", color: COLORS.REALTIME }],
      boundaryMarks,
    );
    charts.minutes.setData(seriesData(m, ["REALTIME"]));
  }
  const a = state.api;
  if (a?.dlq?.ok) {
    setValue("dlq-total", fmtInt(a.dlq.ok.total), a.dlq.ok.total);
    document.getElementById("dlq-body").replaceChildren(
      ...a.dlq.ok.topics.map((t) =>
        el(
          "tr",
          {},
          el("td", {}, t.dlqTopic),
          el(
            "td",
            { class: "num", "data-testid": `dlq-${t.topic}`, "data-value": t.count },
            fmtInt(t.count),
          ),
        )
      ),
    );
  }
  if (a?.late?.ok) {
    setValue("late-total", fmtInt(a.late.ok.total), a.late.ok.total);
    document.getElementById("late-hint").textContent = `since ${
      fmtTime(a.lateSince)
    }, all stream jobs`;
    const views = a.late.ok.views;
    document.getElementById("late-body").replaceChildren(
      ...(views.length ? views : [{ view: "(none yet)", late: 0 }]).map((v) =>
        el(
          "tr",
          {},
          el("td", {}, v.view),
          el(
            "td",
            { class: "num", "data-testid": `late-${v.view}`, "data-value": v.late },
            fmtInt(v.late),
          ),
        )
      ),
    );
  }
  renderErrors();
}

function renderSlow() {
  const h = state.hours;
  if (h) {
    setValue("hours-total", fmtInt(h.total), h.total);
    const node = document.getElementById("chart-hours");
    node.dataset.from = state.ranges.hours.from;
    node.dataset.to = state.ranges.hours.to;
    node.dataset.points = String(h.points.filter((p) => p.count > 0).length);
    node.dataset.batchPoints = String(h.points.filter((p) => p.source === "BATCH").length);
    node.dataset.realtimePoints = String(h.points.filter((p) => p.source === "REALTIME").length);
    document.getElementById("hours-range").textContent = `last ${hoursBack} h`;
    const gaps = h.provenance.gaps;
    document.getElementById("hours-gaps").textContent = gaps.length
      ? `not covered: ${gaps.map((g) => `${fmtTime(g.start)} – ${fmtTime(g.end)}`).join(", ")}`
      : "";
    charts.hours ??= chart(
      "chart-hours",
      [
        { label: "batch", color: COLORS.BATCH },
        { label: "realtime", color: COLORS.REALTIME },
        { label: "mixed", color: COLORS.MIXED },
      ],
      boundaryMarks,
      hoursLog,
    );
    charts.hours.setData(seriesData(h, ["BATCH", "REALTIME", "MIXED"], hoursLog));
  }
  const c = state.courses;
  if (c) {
    document.getElementById("courses-range").textContent = "last 24 h";
    const table = document.querySelector('[data-testid="courses"]');
    table.dataset.from = c.range.from;
    table.dataset.to = c.range.to;
    const max = Math.max(1, ...c.rows.map((r) => r.total.activeUsers));
    document.getElementById("courses-body").replaceChildren(
      ...(c.rows.length ? c.rows : []).map((r) =>
        el(
          "tr",
          { "data-course": r.courseId },
          el("td", {}, r.courseId),
          el(
            "td",
            { "data-field": "activeUsers", "data-value": r.total.activeUsers },
            el(
              "div",
              { class: "barcell" },
              el(
                "div",
                { class: "bar" },
                el("div", { class: "fill", style: `width:${(100 * r.total.activeUsers) / max}%` }),
              ),
              el("span", { class: "num" }, fmtInt(r.total.activeUsers)),
            ),
          ),
          el(
            "td",
            { class: "num", "data-field": "enrollments", "data-value": r.total.enrollments },
            fmtInt(r.total.enrollments),
          ),
          el(
            "td",
            { class: "num", "data-field": "completions", "data-value": r.total.completions },
            fmtInt(r.total.completions),
          ),
          el(
            "td",
            { class: "num", "data-field": "unenrollments", "data-value": r.total.unenrollments },
            fmtInt(r.total.unenrollments),
          ),
        )
      ),
    );
    if (!c.rows.length) {
      document.getElementById("courses-body").replaceChildren(
        el("tr", {}, el("td", { class: "empty", colspan: "5" }, "no course activity yet")),
      );
    }
  }
  const a = state.assessments;
  if (a) {
    document.getElementById("assessments-range").textContent = "last 24 h";
    const table = document.querySelector('[data-testid="assessments"]');
    table.dataset.from = a.range.from;
    table.dataset.to = a.range.to;
    const pos = (v) => `${Math.max(0, Math.min(100, v ?? 0))}%`;
    document.getElementById("assessments-body").replaceChildren(
      ...a.rows.map((r) => {
        const t = r.total;
        return el(
          "tr",
          { "data-assessment": r.assessmentId },
          el("td", {}, r.assessmentId),
          el(
            "td",
            { title: `min ${fmtPct(t.minPercent)}, max ${fmtPct(t.maxPercent)}` },
            el(
              "div",
              { class: "bar" },
              el("div", {
                class: "whisker",
                style: `left:${pos(t.minPercent)};width:calc(${pos(t.maxPercent)} - ${
                  pos(t.minPercent)
                })`,
              }),
              el("div", {
                class: "box",
                style: `left:${pos(t.p50Percent)};width:calc(${pos(t.p95Percent)} - ${
                  pos(t.p50Percent)
                })`,
              }),
              el("div", { class: "avg", style: `left:${pos(t.avgPercent)}` }),
            ),
          ),
          el(
            "td",
            { class: "num", "data-field": "graded", "data-value": t.graded },
            fmtInt(t.graded),
          ),
          el(
            "td",
            { class: "num", "data-field": "avgPercent", "data-value": t.avgPercent },
            fmtPct(t.avgPercent),
          ),
          el(
            "td",
            { class: "num", "data-field": "p50Percent", "data-value": t.p50Percent },
            fmtPct(t.p50Percent),
          ),
          el(
            "td",
            { class: "num", "data-field": "p95Percent", "data-value": t.p95Percent },
            fmtPct(t.p95Percent),
          ),
        );
      }),
    );
    if (!a.rows.length) {
      document.getElementById("assessments-body").replaceChildren(
        el("tr", {}, el("td", { class: "empty", colspan: "6" }, "no graded assessments yet")),
      );
    }
  }
  renderErrors();
}

// ---------------------------------------------------------------------------------------------
// Loop

const logBox = document.getElementById("hours-log");
logBox.checked = hoursLog;
logBox.addEventListener("change", () => {
  hoursLog = logBox.checked;
  charts.hours?.destroy();
  charts.hours = undefined;
  renderSlow();
});

document.getElementById("token-save").addEventListener("click", () => {
  localStorage.setItem("edu.servingToken", document.getElementById("token").value.trim());
  document.getElementById("auth").hidden = true;
  refresh();
});

async function loop(fn, everyMs) {
  for (;;) {
    try {
      await fn();
    } catch (e) {
      state.errors.loop = String(e?.message ?? e);
      renderErrors();
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function refresh() {
  await fast();
  await slow();
}

globalThis.__dashboard = { state, refresh };
// The slow loop needs the entity lists of /api/dashboard, so it starts after the first fast run.
fast().finally(() => {
  loop(slow, SLOW_MS);
  setTimeout(() => loop(fast, FAST_MS), FAST_MS);
});
