"use strict";
// The caregivers' dashboard: reads the JSON API, draws its charts as SVG, and follows /api/stream so new
// utterances and alerts appear without a reload. Data is only ever inserted as text (never as HTML).

const SVG_NS = "http://www.w3.org/2000/svg";
const LATEST = 8;
const REFRESH_DELAY_MS = 1000;

const state = {
  info: null,
  day: null,
  colour: {},
  name: {},
  cards: new Map(), // source id -> {root, parts, summary, seen: Set of utterance ids, last}
  pending: new Map(), // source id -> timer of a chart refresh
  fmt: null,
  loaded: false,
};

// ---- small helpers -------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function svgEl(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function titled(node, text) {
  node.append(svgEl("title", {}, text));
  return node;
}

async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) url.searchParams.set(k, v);
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(`${path}: ${response.status} ${JSON.stringify(body.detail ?? "")}`);
  }
  return response.json();
}

function showError(error) {
  const box = document.getElementById("error");
  box.hidden = false;
  box.textContent = `Could not load data: ${error.message}`;
}

function duration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60), rest = s % 60;
  if (m < 60) return rest ? `${m} min ${String(rest).padStart(2, "0")} s` : `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

function ago(iso) {
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} days ago`;
}

// The probabilities are calibrated ("70 %" is right about 70 % of the time); people read words better.
function sureness(p) {
  if (p >= 0.7) return "clearly";
  if (p >= 0.5) return "probably";
  return "unsure, perhaps";
}

function formatters(zone) {
  const make = (options) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, ...options });
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
  return {
    time: make({ hour: "2-digit", minute: "2-digit", second: "2-digit" }),
    clock: make({ hour: "2-digit", minute: "2-digit" }),
    hour: make({ hour: "2-digit", hourCycle: "h23" }),
    dayOf: (iso) => day.format(new Date(iso)),
  };
}

// ---- charts --------------------------------------------------------------------------------------

function niceScale(max) {
  const step = [0.5, 1, 2, 5, 10, 15, 20, 30, 60].find((s) => max / s <= 5) ?? 60;
  return { step, top: Math.max(step, Math.ceil(max / step) * step) };
}

function hourlyChart(summary) {
  const W = 560, H = 200, L = 46, R = 8, T = 10, B = 26;
  const n = summary.hours.length;
  const minutes = summary.hours.map((h) => h.total_s / 60);
  const { step, top } = niceScale(Math.max(1, ...minutes));
  const slot = (W - L - R) / n;
  const y = (m) => T + (H - T - B) * (1 - m / top);
  const chart = svgEl("svg", {
    viewBox: `0 0 ${W} ${H}`, class: "hourly-chart", role: "img",
    "aria-label": `Minutes of speech in each hour of ${summary.date}, by emotion`,
  });
  for (let m = 0; m <= top + 1e-9; m += step) {
    chart.append(svgEl("line", { class: "grid", x1: L, x2: W - R, y1: y(m), y2: y(m) }));
    const last = m + step > top + 1e-9;
    chart.append(svgEl("text", { x: L - 5, y: y(m) + 4, "text-anchor": "end" }, last ? `${m} min` : String(m)));
  }
  summary.hours.forEach((hour, i) => {
    let below = 0;
    for (const label of summary.labels) {
      const seconds = hour.seconds[label] ?? 0;
      if (seconds <= 0) continue;
      const m = seconds / 60;
      const bar = svgEl("rect", {
        class: "bar", x: L + i * slot + slot * 0.1, width: slot * 0.8, y: y(below + m), height: y(below) - y(below + m),
        fill: state.colour[label] ?? "#777", "data-hour": i, "data-label": label, "data-seconds": seconds.toFixed(3),
      });
      const when = `${state.fmt.clock.format(new Date(hour.start))}–${state.fmt.clock.format(new Date(hour.end))}`;
      chart.append(titled(bar, `${when} · ${state.name[label] ?? label}: ${duration(seconds)}`));
      below += m;
    }
    if (i % 3 === 0) {
      chart.append(svgEl("text", { x: L + (i + 0.5) * slot, y: H - 8, "text-anchor": "middle" },
        state.fmt.hour.format(new Date(hour.start))));
    }
  });
  chart.append(svgEl("line", { class: "axis", x1: L, x2: W - R, y1: y(0), y2: y(0) }));
  return chart;
}

function timelineChart(summary, utterances) {
  const lanes = summary.labels;
  const W = 560, L = 64, R = 18, T = 16, laneH = 20, B = 22;
  const H = T + lanes.length * laneH + B;
  const start = Date.parse(summary.day_start), length = Date.parse(summary.day_end) - start;
  const x = (iso) => L + ((Date.parse(iso) - start) / length) * (W - L - R);
  const chart = svgEl("svg", {
    viewBox: `0 0 ${W} ${H}`, class: "timeline-chart", role: "img",
    "aria-label": `Every utterance of ${summary.date} in the lane of its emotion`,
  });
  const hours = summary.hours.length;
  for (let h = 0; h <= hours; h += 3) {
    const at = L + (h / hours) * (W - L - R);
    chart.append(svgEl("line", { class: "grid", x1: at, x2: at, y1: T - 4, y2: H - B }));
    const label = h < hours ? state.fmt.clock.format(new Date(summary.hours[h].start)) : "24:00";
    chart.append(svgEl("text", { x: at, y: H - 6, "text-anchor": "middle" }, label));
  }
  lanes.forEach((label, lane) => {
    chart.append(svgEl("text", { x: L - 6, y: T + lane * laneH + laneH / 2 + 4, "text-anchor": "end" },
      state.name[label] ?? label));
  });
  for (const u of utterances) {
    const lane = lanes.indexOf(u.label);
    if (lane < 0) continue;
    const left = Math.max(L, x(u.start));
    const tick = svgEl("rect", {
      class: "utt", x: left, y: T + lane * laneH + 3, height: laneH - 6,
      width: Math.max(1.2, Math.min(W - R, x(u.end)) - left),
      fill: state.colour[u.label] ?? "#777", "data-id": u.id, "data-label": u.label,
    });
    chart.append(titled(tick, `${state.fmt.time.format(new Date(u.start))} · ${state.name[u.label] ?? u.label} · ${duration(u.duration_s)}`));
  }
  for (const alert of summary.alerts) {
    const at = x(alert.time);
    const mark = svgEl("path", { class: "alert-mark", d: `M${at - 5},${T - 12} L${at + 5},${T - 12} L${at},${T - 3} Z` });
    chart.append(titled(mark, `${state.fmt.clock.format(new Date(alert.time))} · ${alert.message}`));
  }
  return chart;
}

// ---- source cards --------------------------------------------------------------------------------

const STATE_WORDS = {
  listening: "monitor listening",
  disconnected: "robot disconnected",
  stopped: "monitor stopped",
  never: "no monitor has run",
};

function when(iso) {
  const clock = state.fmt.clock.format(new Date(iso));
  return state.fmt.dayOf(iso) === state.info.today ? clock : `${state.fmt.dayOf(iso)} ${clock}`;
}

// The monitor's state comes from the store (its sessions and events), not from this page's connection.
function showState(card, info) {
  card.parts.title.textContent = info.name;
  card.parts.state.textContent = STATE_WORDS[info.state] + (info.state_since ? ` since ${when(info.state_since)}` : "");
  card.parts.state.dataset.state = info.state;
}

async function refreshStates() {
  for (const info of await api("/api/sources")) {
    const card = state.cards.get(info.id);
    if (card) showState(card, info);
  }
}

function makeCard(source) {
  const parts = {
    title: el("h3", { title: source }, source),
    state: el("span", { class: "monitor-state" }),
    heard: el("span", { class: "muted heard" }),
    balance: el("span", { class: "balance" }),
    badge: el("span", { class: "badge none" }, "nothing heard"),
    confidence: el("span", { class: "muted confidence" }),
    totals: el("span", { class: "muted totals" }),
    hourly: el("div", { class: "hourly" }),
    timeline: el("div", { class: "timeline" }),
    latest: el("ul", { class: "latest" }),
  };
  const root = el("article", { class: "card", "data-source": source },
    el("div", { class: "card-head" }, parts.title, parts.state, parts.heard),
    el("div", { class: "now" }, parts.balance, el("span", { class: "muted" }, "last:"), parts.confidence, parts.badge),
    el("div", { class: "chart-title" }, "Minutes of speech in each hour, by emotion · ", parts.totals),
    parts.hourly,
    el("div", { class: "chart-title" }, "The day's utterances (each line is one; ▼ marks an alert)"),
    parts.timeline,
    el("div", { class: "chart-title" }, "Latest utterances"),
    parts.latest);
  document.getElementById("sources").append(root);
  const card = { root, parts, summary: null, seen: new Set(), last: null };
  state.cards.set(source, card);
  return card;
}

function showCurrent(card, u) {
  if (card.last && Date.parse(card.last.start) > Date.parse(u.start)) return;
  card.last = u;
  const { badge, confidence } = card.parts;
  badge.textContent = state.name[u.label] ?? u.label;
  badge.className = `badge ${u.label}${u.confidence < 0.5 ? " unsure" : ""}`;
  badge.dataset.label = u.label;
  badge.style.background = state.colour[u.label] ?? "#777";
  confidence.textContent = sureness(u.confidence);
  confidence.title = `${Math.round(u.confidence * 100)} % likely (calibrated on validation speech)`;
  updateHeard(card);
}

function updateHeard(card) {
  if (!card.last) return;
  const at = state.fmt.time.format(new Date(card.last.end));
  card.parts.heard.textContent = state.day === state.info.today ? `last heard ${at} (${ago(card.last.end)})` : `last heard that day at ${at}`;
}

function showBalance(card, summary) {
  const speech = Object.values(summary.totals).reduce((a, b) => a + b, 0);
  if (!speech) {
    card.parts.balance.textContent = "No speech heard this day.";
    return;
  }
  const [label, seconds] = Object.entries(summary.totals).sort((a, b) => b[1] - a[1])[0];
  const share = Math.round((100 * seconds) / speech);
  const word = share >= 50 ? "mostly" : "more than anything else";
  card.parts.balance.textContent = `This day: ${word} ${(state.name[label] ?? label).toLowerCase()} (${share} % of ${duration(speech)} of speech) ·`;
  card.parts.balance.dataset.label = label;
}

function addLatest(card, u, fresh) {
  if (card.seen.has(u.id)) return;
  card.seen.add(u.id);
  const item = el("li", { "data-id": u.id, "data-label": u.label, class: fresh ? "fresh" : "" },
    el("span", {}, state.fmt.time.format(new Date(u.start))),
    el("span", {}, el("i", { class: "swatch" }), state.name[u.label] ?? u.label),
    el("span", {}, duration(u.duration_s)),
    el("span", { class: "muted", title: `${Math.round(u.confidence * 100)} % likely` }, sureness(u.confidence)));
  item.querySelector(".swatch").style.background = state.colour[u.label] ?? "#777";
  const list = card.parts.latest;
  const later = [...list.children].find((li) => Date.parse(li.dataset.start) < Date.parse(u.start));
  item.dataset.start = u.start;
  list.insertBefore(item, later ?? null);
  while (list.children.length > LATEST) list.lastElementChild.remove();
}

// Everything on a card is of the chosen day: the balance, the last label, the charts and the latest list.
async function loadDay(source) {
  const card = state.cards.get(source);
  const day = state.day;
  const summary = await api("/api/summary/hourly", { source, date: day });
  const utterances = await api("/api/utterances", {
    source, since: summary.day_start, until: summary.day_end, limit: 5000, order: "oldest",
  });
  if (day !== state.day) return; // another day was chosen meanwhile
  card.summary = summary;
  for (const u of utterances.slice(-LATEST)) addLatest(card, u, false);
  if (utterances.length) showCurrent(card, utterances[utterances.length - 1]);
  showBalance(card, summary);
  const speech = Object.values(summary.totals).reduce((a, b) => a + b, 0);
  card.parts.totals.textContent = `${duration(speech)} of speech in ${Object.values(summary.utterances).reduce((a, b) => a + b, 0)} utterances`;
  card.parts.hourly.replaceChildren(hourlyChart(summary));
  card.parts.timeline.replaceChildren(timelineChart(summary, utterances));
  renderAlerts();
}

function scheduleCharts(source) {
  clearTimeout(state.pending.get(source));
  state.pending.set(source, setTimeout(() => loadDay(source).catch(showError), REFRESH_DELAY_MS));
}

async function ensureCard(source) {
  if (state.cards.has(source)) return state.cards.get(source);
  const card = makeCard(source);
  await loadDay(source);
  return card;
}

// ---- alerts, reports, legend ---------------------------------------------------------------------

// What the care team calls a source (serve --name), once its card knows; else its id.
function named(id) {
  return state.cards.get(id)?.parts.title.textContent || id;
}

function renderAlerts() {
  const alerts = [...state.cards.values()].flatMap((c) => c.summary?.alerts ?? []);
  alerts.sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  const list = document.getElementById("alerts");
  list.replaceChildren(...alerts.map((a) => el("li", { "data-id": a.id },
    el("strong", {}, state.fmt.clock.format(new Date(a.time))), ` · ${named(a.source)} · ${a.message}`)));
  if (!alerts.length) list.append(el("li", { class: "none" }, "No alerts on this day."));
}

async function loadReports() {
  const reports = await api("/api/reports");
  const body = document.querySelector("#reports tbody");
  body.replaceChildren(...reports.map((r) => el("tr", {},
    el("td", {}, r.date), el("td", { title: r.source }, named(r.source)),
    el("td", {}, el("a", { href: r.html_url, target: "_blank", rel: "noopener" }, "open report")),
    // one self-contained file: the report page embeds its figures
    el("td", {}, el("a", { href: `${r.html_url}?download=1`, download: `report-${r.date}-${r.source}.html` }, "download")))));
  if (!reports.length) body.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No reports yet.")));

}

function renderLegend() {
  const legend = document.getElementById("legend");
  legend.replaceChildren(...state.info.emotions.map((e) => {
    const swatch = el("i", { class: "swatch" });
    swatch.style.background = e.colour;
    return el("span", { "data-label": e.label }, swatch, e.name);
  }));
}

// ---- live stream ---------------------------------------------------------------------------------

function setStatus(name, text) {
  const status = document.getElementById("status");
  status.dataset.state = name;
  status.textContent = text;
}

function onUtterance(u) {
  const known = state.cards.get(u.source);
  if (known && known.parts.state.dataset.state !== "listening") refreshStates().catch(showError);
  if (state.fmt.dayOf(u.start) !== state.day) return; // the page shows another day
  ensureCard(u.source).then((card) => {
    if (!card.parts.state.dataset.state) refreshStates().catch(showError); // a source new to the page
    addLatest(card, u, true);
    showCurrent(card, u);
    scheduleCharts(u.source);
  }).catch(showError);
}

function clearCard(card) {
  card.seen.clear();
  card.last = null;
  card.parts.latest.replaceChildren();
  card.parts.heard.textContent = "";
  card.parts.confidence.textContent = "";
  Object.assign(card.parts.badge, { className: "badge none", textContent: "nothing heard" });
  card.parts.badge.removeAttribute("data-label");
  card.parts.badge.style.background = "";
}

function onEvent(e) {
  if (state.cards.has(e.source)) refreshStates().catch(showError); // a stop, a lost or regained robot
  if (e.kind === "alert" && state.cards.has(e.source) && state.fmt.dayOf(e.time) === state.day) scheduleCharts(e.source);
}

async function loadAll() {
  const sources = await api("/api/sources");
  await Promise.all(sources.map((s) => ensureCard(s.id).then((card) => showState(card, s))));
  if (!sources.length) document.getElementById("sources").append(el("p", { class: "muted empty" }, "No monitored sources yet."));
  renderAlerts();
  await loadReports();
  state.loaded = true;
  document.body.dataset.loaded = "true";
}

function connect() {
  const stream = new EventSource("/api/stream");
  // Load the page's data once the stream is listening, so nothing written in between is missed.
  stream.addEventListener("ready", () => {
    setStatus("live", "page updates live");
    if (!state.loaded) loadAll().catch(showError);
  });
  stream.addEventListener("utterance", (m) => onUtterance(JSON.parse(m.data)));
  stream.addEventListener("event", (m) => onEvent(JSON.parse(m.data)));
  stream.onerror = () => setStatus("lost", "connection lost, retrying…");
}

async function start() {
  try {
    state.info = await api("/api/info");
  } catch (error) {
    showError(error);
    setStatus("lost", "not connected");
    return;
  }
  for (const e of state.info.emotions) {
    state.colour[e.label] = e.colour;
    state.name[e.label] = e.name;
  }
  state.fmt = formatters(state.info.timezone);
  // A ?token= has become a cookie: keep it out of the address bar, history and bookmarks.
  const here = new URL(location.href);
  if (here.searchParams.has("token")) {
    here.searchParams.delete("token");
    history.replaceState(null, "", here);
  }
  const asked = new URLSearchParams(location.search).get("date");
  state.day = /^\d{4}-\d{2}-\d{2}$/.test(asked ?? "") ? asked : state.info.today;
  const picker = document.getElementById("day");
  picker.value = state.day;
  picker.addEventListener("change", () => {
    if (!picker.value) return;
    state.day = picker.value;
    const url = new URL(location.href);
    url.searchParams.set("date", state.day);
    history.replaceState(null, "", url);
    state.cards.forEach(clearCard);
    Promise.all([...state.cards.keys()].map(loadDay)).catch(showError);
  });
  // Times are the monitored place's; say which zone only when this browser is elsewhere.
  const plain = (zone) => zone.replace(/^Etc\//, "").replaceAll("_", " ");
  const zone = plain(state.info.timezone);
  document.getElementById("zone").textContent = zone === plain(Intl.DateTimeFormat().resolvedOptions().timeZone) ? "" : `times in ${zone}`;
  renderLegend();
  connect();
  setInterval(() => {
    state.cards.forEach(updateHeard);
    if (state.loaded) refreshStates().catch(showError);
  }, 20000);
}

start();
