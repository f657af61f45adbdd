import { createHash } from 'node:crypto';
import { CAMERAS_SECTION, CAMERAS_STYLE } from './dashboard-cameras.ts';
import { PAYLOADS_SECTION, PAYLOADS_STYLE } from './dashboard-payloads.ts';
import { DASHBOARD_SCRIPT } from './dashboard-script.ts';

// The operator page: one self-contained document (the gateway may run where there is no internet),
// drawn in the browser by DASHBOARD_SCRIPT from `events` (Server-Sent Events of FleetSnapshot).

const STYLE = `
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d232b;--muted:#667180;--line:#e3e6ea;--ok:#1a7f4b;--bad:#b3261e;
--accent:#2f6fde;--bar:#dfe8fb;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#14171b;--card:#1c2026;--ink:#e6e9ed;--muted:#98a2ae;
--line:#2c323a;--ok:#5cc98c;--bad:#f2837b;--accent:#7aa7ff;--bar:#26344d}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
header{display:flex;align-items:baseline;gap:16px;padding:16px 24px;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:18px;margin:0;font-weight:600}h1 span{color:var(--muted);font-weight:400}
h2{font-size:13px;margin:0 0 10px;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.spacer{flex:1}.muted{color:var(--muted)}
.pill{font-size:12px;padding:2px 10px;border-radius:99px;border:1px solid var(--line);color:var(--muted)}
.pill.live{color:var(--ok);border-color:currentColor}.pill.down{color:var(--bad);border-color:currentColor}
main{padding:20px 24px;display:grid;gap:20px;max-width:1400px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px}
.tile,.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.tile b{display:block;font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.tile span{font-size:12px;color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:20px}
svg.chart{width:100%;height:200px;display:block}
svg.chart text{fill:var(--muted);font-size:10px}svg.chart .grid{stroke:var(--line)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:var(--muted);margin-top:6px}
i.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.scroll{overflow-x:auto}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);white-space:nowrap}
th{font-size:12px;font-weight:600;color:var(--muted)}tbody tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right}
td.label{max-width:240px;overflow:hidden;text-overflow:ellipsis}
td.empty{color:var(--muted);text-align:center;padding:18px}
.rate{display:inline-block;width:60px;height:6px;border-radius:3px;background:var(--bar);margin-left:8px;vertical-align:middle;overflow:hidden}
.rate i{display:block;height:100%;background:var(--accent)}
.state{font-size:12px}.state.on{color:var(--ok)}.state.off{color:var(--muted)}
.status-ok{color:var(--ok)}.status-err{color:var(--bad)}
.agree{color:var(--ok)}.differ{color:var(--bad)}
.p{color:var(--muted);margin-left:4px}
${CAMERAS_STYLE}${PAYLOADS_STYLE}`;

const BODY = `
<header>
  <h1>squeezegate <span>fleet</span></h1>
  <span class="pill" data-testid="conn-state">connecting</span>
  <span class="spacer"></span>
  <span class="muted">last update <time data-testid="last-update">–</time></span>
</header>
<main>
  <section class="tiles" data-testid="summary">
    <div class="tile"><span>devices connected</span><b data-testid="tile-devices">–</b></div>
    <div class="tile"><span>frames captured</span><b data-testid="tile-frames">–</b></div>
    <div class="tile"><span>offload rate</span><b data-testid="tile-offload">–</b></div>
    <div class="tile"><span>bytes saved vs. sending every frame</span><b data-testid="tile-saved">–</b></div>
  </section>
  <section class="card">
    <h2>Devices</h2>
    <div class="scroll"><table data-testid="devices">
      <thead><tr><th>device</th><th>state</th><th class="num">frames</th><th class="num">offloaded</th>
      <th class="num">offload rate</th><th class="num">captured</th><th class="num">sent</th>
      <th class="num">saved</th><th class="num">saved %</th><th class="num">answered</th>
      <th class="num">latency p50 / p95 ms</th></tr></thead>
      <tbody data-testid="devices-body"></tbody>
    </table></div>
  </section>
${CAMERAS_SECTION}  <section class="charts">
    <div class="card"><h2>Offload rate by device</h2>
      <svg class="chart" data-testid="chart-offload" viewBox="0 0 600 200" preserveAspectRatio="none" role="img" aria-label="offload rate over time"></svg>
      <div class="legend" data-testid="legend-offload"></div></div>
    <div class="card"><h2>Bytes: captured vs. sent (all devices)</h2>
      <svg class="chart" data-testid="chart-bytes" viewBox="0 0 600 200" preserveAspectRatio="none" role="img" aria-label="bytes captured and sent over time"></svg>
      <div class="legend" data-testid="legend-bytes"></div></div>
  </section>
  <section class="card">
    <h2>Recent offloaded frames</h2>
    <div class="scroll"><table data-testid="decisions">
      <thead><tr><th>time</th><th>device</th><th>frame</th><th>edge label (p)</th><th>cloud label (p)</th>
      <th>cloud vs. edge</th><th>status</th><th class="num">latency ms</th></tr></thead>
      <tbody data-testid="decisions-body"></tbody>
    </table></div>
  </section>
${PAYLOADS_SECTION}</main>
`;

const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** The dashboard document, and a Content-Security-Policy that allows its own inline code and nothing else. */
export const DASHBOARD_PAGE: { readonly html: string; readonly contentSecurityPolicy: string } =
  Object.freeze({
    html: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>squeezegate · fleet</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`,
    contentSecurityPolicy: [
      "default-src 'none'",
      `script-src ${hash(DASHBOARD_SCRIPT)}`,
      `style-src ${hash(STYLE)}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  });
