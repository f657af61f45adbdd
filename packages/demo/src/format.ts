import type { DemoSummary } from './run-demo.ts';

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
const ms = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(1)} ms`);
const mb = (v: number) => `${(v / 1e6).toFixed(2)} MB`;

/** The summary as an aligned two-column table for a terminal. */
export function formatSummary(s: DemoSummary): string {
  const rows: [string, string][] = [
    ['dataset', s.dataset],
    ['edges', `${s.edges} × ${s.edgeModel} → gateway ${s.cloudModel}`],
    ['policy', s.policy],
    ['frames', String(s.frames)],
    [
      'offloaded',
      `${s.offloaded} (${pct(s.offloadRate)}), ${s.cloudAnswered} answered by the cloud${s.held ? `; ${s.held} held back by the policy's limit` : ''}`,
    ],
    ['failed frames', String(s.failed)],
    ['edge-only top-1', pct(s.edgeTop1)],
    ['cascade top-1', pct(s.cascadeTop1)],
    ['cloud-only top-1', pct(s.cloudTop1)],
    ['kept of cloud-only', s.cascadeTop1 !== null && s.cloudTop1 ? pct(s.cascadeTop1 / s.cloudTop1) : 'n/a'],
    ['bytes up', `${mb(s.bytesUp)} (${pct(s.bytesUpRatio)} of the frames as captured, ${mb(s.bytesFrames)})`],
    ['latency p50 / p95', `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p95)}`],
    ['wall time', `${(s.elapsedMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}
