// The "what left" view of the dashboard (issue 15): the last payloads the gateway received, each
// shown from its exact bytes (`payloads/<n>`) with its device, frame, the edge's reason and what
// the edge obscured first. Its markup, style and client code, which dashboard-page.ts and
// dashboard-script.ts splice into the one document.

export const PAYLOADS_STYLE = `
.payloads{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px}
.payloads figure{margin:0;border:1px solid var(--line);border-radius:8px;overflow:hidden;background:var(--bg)}
.payloads .thumb{display:flex;align-items:center;justify-content:center;height:150px;background:#0b0d10}
.payloads img{max-width:100%;max-height:150px;display:block}
.payloads figcaption{padding:6px 8px;font-size:12px;display:grid;gap:1px}
.payloads figcaption span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.payloads figcaption span.wrap{white-space:normal}
.payloads .gone{color:var(--muted);font-size:12px}
.payloads-empty{color:var(--muted);text-align:center;padding:18px}
`;

export const PAYLOADS_SECTION = `
  <section class="card">
    <h2>What left</h2>
    <p class="muted" data-testid="payloads-note">–</p>
    <div class="payloads" data-testid="payloads"></div>
  </section>
`;

/** Client code; it uses the helpers of dashboard-script.ts (el, $, int, bytes, clock, url). */
export const PAYLOADS_SCRIPT = `
const payloadCards = new Map();
function redactionText(r) {
  if (!r) return 'redactions not reported';
  return 'faces ' + r.faces + ' (' + r.faceMode + ') · masks ' + r.masks + ' · metadata ' + r.metadata;
}
function payloadCard(p) {
  const img = el('img', { 'data-testid': 'payload-img', src: url('payloads/' + p.n), alt: p.frameId, title: p.frameId });
  const thumb = el('div', { class: 'thumb' }, img);
  // Gone between the list and the fetch (newer payloads replaced it): say so, not a broken image.
  img.addEventListener('error', () => thumb.replaceChildren(el('span', { class: 'gone' }, 'no longer held')));
  return el('figure', { 'data-testid': 'payload-card', 'data-n': p.n }, thumb,
    el('figcaption', {},
      el('span', { 'data-testid': 'payload-device' }, icon(color(p.deviceId)), p.deviceId),
      el('span', { 'data-testid': 'payload-frame', class: 'muted', title: p.frameId }, p.frameId),
      el('span', { 'data-testid': 'payload-reason', title: p.reason || '' }, p.reason || 'reason not reported'),
      el('span', { 'data-testid': 'payload-redactions', class: 'muted wrap' }, redactionText(p.redactions)),
      el('span', { class: 'muted wrap' },
        el('span', { 'data-testid': 'payload-bytes' }, bytes(p.bytes)), ' · ' + p.mime + ' · ' + p.view + ' · ' + clock(p.at)),
    ));
}
function renderPayloads(body) {
  $('payloads-note').textContent = int(body.held) + ' held (' + bytes(body.heldBytes) + '), at most ' +
    int(body.size) + ' or ' + bytes(body.maxBytes) + '; ' + int(body.received) + ' received since the gateway started' +
    (body.tooLarge ? '; ' + int(body.tooLarge) + ' too large to keep' : '') + '. Held in memory only.';
  const seen = new Set();
  const cards = body.payloads.map((p) => {
    seen.add(p.n);
    if (!payloadCards.has(p.n)) payloadCards.set(p.n, payloadCard(p));
    return payloadCards.get(p.n);
  });
  for (const n of [...payloadCards.keys()]) if (!seen.has(n)) payloadCards.delete(n);
  $('payloads').replaceChildren(...(cards.length ? cards
    : [el('div', { class: 'payloads-empty' }, 'Nothing has left the devices yet.')]));
}
function payloadsOff(message) {
  payloadCards.clear();
  $('payloads-note').textContent = message;
  $('payloads').replaceChildren();
}
// One request at a time; snapshots that arrive meanwhile ask for one more after it.
let payloadsBusy = false;
let payloadsAgain = false;
async function refreshPayloads() {
  if (payloadsBusy) return void (payloadsAgain = true);
  payloadsBusy = true;
  try {
    const res = await fetch(url('payloads'));
    const body = await res.json().catch(() => null);
    if (res.ok && body) renderPayloads(body);
    else payloadsOff((body && body.error) || 'the payload preview answered ' + res.status);
  } catch {
    // Offline: the connection pill says so, and the next snapshot asks again.
  } finally {
    payloadsBusy = false;
    if (payloadsAgain) {
      payloadsAgain = false;
      void refreshPayloads();
    }
  }
}
`;
