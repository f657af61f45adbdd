import { CAMERAS_SCRIPT } from './dashboard-cameras.ts';
import { PAYLOADS_SCRIPT } from './dashboard-payloads.ts';

// The dashboard's client code, drawn in the browser from `events` (Server-Sent Events of
// FleetSnapshot). Text from the network (device ids, labels, statuses) only ever goes in through
// textContent/setAttribute, never markup.

/** The page's one inline script (its sha256 goes into the Content-Security-Policy). */
export const DASHBOARD_SCRIPT = `
'use strict';
const token = new URLSearchParams(location.search).get('token');
const base = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/';
const url = (name) => base + name + (token ? '?token=' + encodeURIComponent(token) : '');
const $ = (id) => document.querySelector('[data-testid="' + id + '"]');
const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#2f6fde', '#e07a1f', '#1a9e6a', '#c2378f', '#7a5af0', '#8a8f1b', '#d2453b', '#1f9bb8'];
const WINDOW_MS = 10 * 60 * 1000;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}
const pct = (x) => (x * 100).toFixed(1) + '%';
const int = (n) => n.toLocaleString('en-US');
function bytes(n) {
  const a = Math.abs(n);
  if (a < 1024) return n + ' B';
  if (a < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  if (a < 1024 ** 3) return (n / 1024 ** 2).toFixed(1) + ' MiB';
  return (n / 1024 ** 3).toFixed(2) + ' GiB';
}
const ms = (v) => (v === null || v === undefined ? '–' : v < 10 ? v.toFixed(1) : String(Math.round(v)));
const clock = (t) => new Date(t).toLocaleTimeString('en-GB', { hour12: false });
const score = (s) => (s ? [el('span', {}, s.label), el('span', { class: 'p' }, '(' + s.p.toFixed(2) + ')')] : ['–']);

const colorOf = new Map();
function color(id) {
  if (!colorOf.has(id)) colorOf.set(id, COLORS[colorOf.size % COLORS.length]);
  return colorOf.get(id);
}

function renderTiles(devices) {
  const sum = (k) => devices.reduce((s, d) => s + d[k], 0);
  const frames = sum('frames');
  const captured = sum('capturedBytes');
  const saved = sum('bytesSaved');
  $('tile-devices').textContent = devices.filter((d) => d.connected).length + ' / ' + devices.length;
  $('tile-frames').textContent = int(frames);
  $('tile-offload').textContent = frames ? pct(sum('offloaded') / frames) : '–';
  $('tile-saved').textContent = bytes(saved) + (captured ? ' (' + pct(saved / captured) + ')' : '');
}

function renderDevices(devices) {
  const rows = [...devices]
    .sort((a, b) => Number(b.connected) - Number(a.connected) || (a.deviceId < b.deviceId ? -1 : 1))
    .map((d) => {
      const bar = el('span', { class: 'rate' }, el('i'));
      bar.firstChild.style.width = pct(d.offloadRate);
      return el('tr', { 'data-testid': 'device-row', 'data-device-id': d.deviceId },
        el('td', { 'data-testid': 'device-id' }, icon(color(d.deviceId)), d.deviceId),
        el('td', { 'data-testid': 'device-state', class: 'state ' + (d.connected ? 'on' : 'off') },
          d.connected ? '● connected' : '○ disconnected'),
        el('td', { class: 'num', 'data-testid': 'device-frames' }, int(d.frames)),
        el('td', { class: 'num', 'data-testid': 'device-offloaded' }, int(d.offloaded)),
        el('td', { class: 'num' }, el('span', { 'data-testid': 'device-offload-rate' }, pct(d.offloadRate)), bar),
        el('td', { class: 'num' }, bytes(d.capturedBytes)),
        el('td', { class: 'num' }, bytes(d.sentBytes)),
        el('td', { class: 'num', 'data-testid': 'device-bytes-saved' }, bytes(d.bytesSaved)),
        el('td', { class: 'num', 'data-testid': 'device-bytes-saved-pct' },
          d.capturedBytes ? pct(d.bytesSaved / d.capturedBytes) : '–'),
        el('td', { class: 'num', 'data-testid': 'device-answered' }, int(d.answered)),
        el('td', { class: 'num', 'data-testid': 'device-latency' }, ms(d.latencyMs.p50) + ' / ' + ms(d.latencyMs.p95)),
      );
    });
  $('devices-body').replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { colspan: 11, class: 'empty' }, 'No device has connected yet.'))]));
}

function renderDecisions(recent) {
  const rows = recent.map((r) => {
    const same = r.local && r.cloud ? r.local.index === r.cloud.index : null;
    return el('tr', { 'data-testid': 'decision-row' },
      el('td', { class: 'muted' }, clock(r.at)),
      el('td', { 'data-testid': 'decision-device' }, r.deviceId),
      el('td', { 'data-testid': 'decision-frame', class: 'muted' }, r.frameId),
      el('td', { 'data-testid': 'decision-local', class: 'label', title: r.local ? r.local.label : '' }, ...score(r.local)),
      el('td', { 'data-testid': 'decision-cloud', class: 'label', title: r.cloud ? r.cloud.label : '' }, ...score(r.cloud)),
      el('td', { class: same === null ? 'muted' : same ? 'agree' : 'differ' }, same === null ? '–' : same ? 'same' : 'changed'),
      el('td', { 'data-testid': 'decision-status', class: r.status === 'ok' ? 'status-ok' : 'status-err' }, r.status),
      el('td', { class: 'num' }, ms(r.latencyMs)),
    );
  });
  $('decisions-body').replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { colspan: 8, class: 'empty' }, 'No frame has been offloaded yet.'))]));
}

// Time series, sampled from every snapshot received (the gateway keeps no history).
const history = [];
function remember(snap) {
  const now = Date.now();
  const devices = {};
  for (const d of snap.devices) devices[d.deviceId] = d.offloadRate;
  const sum = (k) => snap.devices.reduce((s, d) => s + d[k], 0);
  history.push({ t: now, devices, captured: sum('capturedBytes'), sent: sum('sentBytes') });
  while (history.length > 2 && history[0].t < now - WINDOW_MS) history.shift();
}

// A round top for a byte axis, in the unit bytes() prints it in, so the quarter ticks read well.
function niceBytes(v) {
  if (v < 4) return 4;
  const unit = 1024 ** Math.min(3, Math.floor(Math.log(v) / Math.log(1024)));
  const p = 10 ** Math.floor(Math.log10(v / unit));
  return unit * [1, 2, 4, 6, 8, 10].map((m) => m * p).find((m) => m * unit >= v);
}

function drawChart(target, legend, series, yMax, yFormat) {
  const W = 600, H = 200, L = 56, R = 10, T = 8, B = 22;
  const now = Date.now();
  const t0 = history.length ? Math.min(history[0].t, now - 10000) : now - 60000;
  const x = (t) => L + ((t - t0) / (now - t0)) * (W - L - R);
  const y = (v) => T + (1 - v / yMax) * (H - T - B);
  const nodes = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    nodes.push(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    nodes.push(svg('text', { x: L - 6, y: y(v) + 3, 'text-anchor': 'end' }, yFormat(v)));
  }
  nodes.push(svg('text', { x: L, y: H - 6 }, clock(t0)));
  nodes.push(svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }, clock(now)));
  for (const s of series) {
    if (!s.points.length) continue;
    // Values hold until the next snapshot: draw steps, carried to now.
    let d = '';
    s.points.forEach(([t, v], i) => {
      d += (i ? 'H' + x(t).toFixed(1) + 'V' : 'M' + x(t).toFixed(1) + ',') + y(v).toFixed(1);
    });
    d += 'H' + x(now).toFixed(1);
    nodes.push(svg('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round' }));
  }
  target.replaceChildren(...nodes);
  legend.replaceChildren(...series.map((s) => el('span', {}, icon(s.color), s.name)));
}
function icon(c) {
  const i = el('i', { class: 'sw' });
  i.style.background = c;
  return i;
}

function drawCharts() {
  const ids = [...new Set(history.flatMap((h) => Object.keys(h.devices)))];
  drawChart($('chart-offload'), $('legend-offload'), ids.map((id) => ({
    name: id,
    color: color(id),
    points: history.filter((h) => id in h.devices).map((h) => [h.t, h.devices[id]]),
  })), 1, (v) => Math.round(v * 100) + '%');
  const top = niceBytes(Math.max(0, ...history.map((h) => h.captured)));
  drawChart($('chart-bytes'), $('legend-bytes'), [
    { name: 'captured (every frame sent)', color: '#98a2ae', points: history.map((h) => [h.t, h.captured]) },
    { name: 'sent to the gateway', color: COLORS[0], points: history.map((h) => [h.t, h.sent]) },
  ], top, bytes);
}

${CAMERAS_SCRIPT}
${PAYLOADS_SCRIPT}
function render(snap) {
  renderTiles(snap.devices);
  renderDevices(snap.devices);
  renderDecisions(snap.recent);
  renderCameras(snap.devices);
  void refreshPayloads();
  remember(snap);
  drawCharts();
  const at = $('last-update');
  at.textContent = clock(snap.at);
  at.setAttribute('datetime', new Date(snap.at).toISOString());
}

function setState(text, cls) {
  const s = $('conn-state');
  s.textContent = text;
  s.className = 'pill ' + cls;
}

let source = null;
function connect() {
  setState('connecting', '');
  source = new EventSource(url('events'));
  source.addEventListener('snapshot', (e) => {
    setState('live', 'live');
    render(JSON.parse(e.data));
  });
  source.onerror = async () => {
    if (source.readyState !== EventSource.CLOSED) return setState('reconnecting', 'down');
    // The browser gives up on a non-200 answer: say why, and try again later unless it is the token.
    const res = await fetch(url('snapshot')).catch(() => null);
    if (res && res.status === 401) return setState('unauthorized: open this page with ?token=', 'down');
    setState('offline', 'down');
    setTimeout(connect, 5000);
  };
}
connect();
setInterval(() => history.length && drawCharts(), 1000);
`;
