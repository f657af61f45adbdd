// The cameras view of the dashboard: one row per camera of every device (from the agents' stats
// reports), and the latest events of all cameras. Its markup, style and client code, which
// dashboard-page.ts and dashboard-script.ts splice into the one document.

/** Events listed at most, newest first, across the fleet. */
const EVENTS_SHOWN = 30;

export const CAMERAS_STYLE = `
td.warn{color:var(--bad)}
.ev-new{color:var(--ok)}.ev-update{color:var(--ink)}.ev-end{color:var(--muted)}.ev-scene{color:var(--accent)}
`;

export const CAMERAS_SECTION = `
  <section class="card">
    <h2>Cameras</h2>
    <div class="scroll"><table data-testid="cameras">
      <thead><tr><th>device</th><th>camera</th><th>source</th><th class="num">decoded</th>
      <th class="num">analysed</th><th class="num">inferred</th><th class="num">reused by gate</th>
      <th class="num">dropped</th><th class="num">restarts</th><th class="num">gap</th>
      <th class="num">open tracks</th><th>last event</th></tr></thead>
      <tbody data-testid="cameras-body"></tbody>
    </table></div>
  </section>
  <section class="card">
    <h2>Latest camera events</h2>
    <div class="scroll"><table data-testid="camera-events">
      <thead><tr><th>time</th><th>device</th><th>camera</th><th>event</th><th>label</th><th>track</th></tr></thead>
      <tbody data-testid="camera-events-body"></tbody>
    </table></div>
  </section>
`;

/** Client code; it uses the helpers of dashboard-script.ts (el, $, int, clock, icon, color). */
export const CAMERAS_SCRIPT = `
const byText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const seconds = (msTotal) => (msTotal / 1000).toFixed(1) + ' s';
const eventText = (e) => e.type + ' ' + e.label;

function renderCameras(devices) {
  const rows = [];
  const events = [];
  for (const d of [...devices].sort((a, b) => byText(a.deviceId, b.deviceId))) {
    for (const c of [...d.cameras].sort((a, b) => byText(a.id, b.id))) {
      const last = c.events.length ? c.events[c.events.length - 1] : null;
      const count = (key, warn) =>
        el('td', { class: 'num' + (warn && c[key] > 0 ? ' warn' : ''), 'data-testid': 'camera-' + key }, int(c[key]));
      rows.push(el('tr', { 'data-testid': 'camera-row', 'data-device-id': d.deviceId, 'data-camera-id': c.id },
        el('td', { 'data-testid': 'camera-device' }, icon(color(d.deviceId)), d.deviceId),
        el('td', { 'data-testid': 'camera-id' }, c.id),
        el('td', { 'data-testid': 'camera-source', class: 'muted' }, c.source),
        count('decoded'), count('analysed'), count('inferred'), count('reused'),
        count('dropped', true), count('restarts', true),
        el('td', { class: 'num', 'data-testid': 'camera-gap' }, seconds(c.gapMs)),
        count('tracksOpen'),
        el('td', { 'data-testid': 'camera-last-event', class: 'label', title: last ? eventText(last) : '' },
          last ? eventText(last) : '–'),
      ));
      for (const e of c.events) events.push({ device: d.deviceId, camera: c.id, event: e, n: events.length });
    }
  }
  $('cameras-body').replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', { colspan: 12, class: 'empty' }, 'No camera has reported yet.'))]));

  const eventRows = events
    .sort((a, b) => b.event.at - a.event.at || b.n - a.n)
    .slice(0, ${EVENTS_SHOWN})
    .map(({ device, camera, event: e }) => el('tr', { 'data-testid': 'camera-event-row' },
      el('td', { class: 'muted' }, clock(e.at)),
      el('td', { 'data-testid': 'camera-event-device' }, device),
      el('td', { 'data-testid': 'camera-event-camera' }, camera),
      el('td', { 'data-testid': 'camera-event-type', class: 'ev-' + e.type }, e.type),
      el('td', { 'data-testid': 'camera-event-label', class: 'label', title: e.label }, e.label),
      el('td', { 'data-testid': 'camera-event-track', class: 'muted' }, e.trackId === null ? '–' : e.trackId),
    ));
  $('camera-events-body').replaceChildren(...(eventRows.length ? eventRows
    : [el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No camera event yet.'))]));
}
`;
