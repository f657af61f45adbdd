import type { DetectionMetrics } from '@squeezegate/shared';
import type { DemoSummary } from './run-demo.ts';
import type { DetectDemoSummary } from './run-detect-demo.ts';
import type { VideoDemoSummary } from './run-video-demo.ts';

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
const ms = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(1)} ms`);
const mb = (v: number) => `${(v / 1e6).toFixed(2)} MB`;

/** The summary as an aligned two-column table for a terminal. */
export function formatSummary(s: DemoSummary): string {
  const rows: [string, string][] = [
    ['dataset', s.dataset],
    ['edges', `${s.edges} × ${s.edgeModel} → gateway ${s.cloudModel}`],
    ['policy', s.policy],
    ['faces', `${s.faces}: ${s.facesRedacted} redacted in payloads that left`],
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

/** The detect demo's summary as a table. */
export function formatDetectSummary(s: DetectDemoSummary): string {
  const acc = (m: DetectionMetrics) =>
    `precision ${pct(m.precision)}, recall ${pct(m.recall)} (TP ${m.tp}, FP ${m.fp}, FN ${m.fn})`;
  const rows: [string, string][] = [
    ['dataset', s.dataset],
    ['edges', `${s.edges} × ${s.detector} → gateway ${s.cloudModel} (verifies crops)`],
    ['frames', `${s.frames} (${s.failed} failed)`],
    [
      'objects',
      `${s.objects}, ${s.verified} verified by the cloud (${s.relabelled} relabelled), ${s.rejected} rejected`,
    ],
    [
      'offloaded frames',
      `${s.offloadedFrames}: ${s.crops} object crops, ${s.framesSent} whole frames${s.withheldFrames ? `; ${s.withheldFrames} withheld (faces)` : ''}`,
    ],
    ['faces', `${s.faces}: ${s.facesRedacted} redacted in payloads that left`],
    [
      'bytes up',
      `${mb(s.bytesUp)} (${pct(s.bytesWhole > 0 ? s.bytesUp / s.bytesWhole : 0)} of sending every frame whole, ${mb(s.bytesWhole)})`,
    ],
    ...(s.accuracy
      ? ([
          [`edge only (${s.accuracy.labelledFrames} labelled)`, acc(s.accuracy.edge)],
          ['cascade', acc(s.accuracy.cascade)],
        ] as [string, string][])
      : []),
    ['detect p50 / p95', `${ms(s.detectMs.p50)} / ${ms(s.detectMs.p95)}`],
    [
      'payloads p50 / p95',
      `${ms(s.payloadMs.p50)} / ${ms(s.payloadMs.p95)} (cut, face search, encode; frames that sent)`,
    ],
    ['latency p50 / p95', `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p95)}`],
    ['wall time', `${(s.elapsedMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}

const kb = (v: number) => (v >= 1e6 ? mb(v) : `${(v / 1e3).toFixed(1)} kB`);

/** The video demo's summary as a table: what the camera cost against streaming it. */
export function formatVideoSummary(s: VideoDemoSummary): string {
  const clip = s.clip
    ? ` (${s.clip.durationS.toFixed(1)} s, ${s.clip.frames ?? '?'} frames, ${mb(s.clip.bytes)})`
    : ' (live)';
  const e = s.events;
  const restarts: [string, string][] =
    s.restarts > 0
      ? [['camera restarts', `${s.restarts}, ${(s.gapMs / 1000).toFixed(1)} s without frames`]]
      : [];
  const rows: [string, string][] = [
    ['clip', `${s.name}${clip}`],
    ['agent', `${s.deviceId}/${s.camera}: ${s.edgeModel} → gateway ${s.cloudModel}`],
    [
      'cascade',
      `${s.policy}; gate ${s.gate ? 'on' : 'off'}${s.task === 'detect' ? `, tracking ${s.track ? 'on' : 'off'}` : ''}`,
    ],
    [
      'frames',
      `${s.decodedFrames} decoded at ${s.fps} fps (${s.analysedS.toFixed(1)} s), ${s.analysedFrames} analysed, ${s.droppedFrames} dropped, ${s.failedFrames} failed`,
    ],
    ['through the model', `${s.inferredFrames} (${pct(s.inferredFraction)} of analysed)`],
    [
      s.task === 'detect' ? 'reused (scene gate)' : 'reused',
      `${s.reusedFrames}${s.task === 'detect' ? '' : ' (scene gate, or the scene label already asked)'}`,
    ],
    [
      'offloads',
      s.task === 'detect'
        ? `${s.offloads.crops} object crops, ${s.offloads.frames} whole frames`
        : `${s.offloads.frames} frames`,
    ],
    [
      'bytes up',
      s.streamBytes === null || s.bytesUpOverStream === null
        ? kb(s.bytesUp)
        : `${kb(s.bytesUp)} against ${kb(s.streamBytes)} streaming the clip: ${pct(s.bytesUpOverStream)}${s.bytesUp > 0 ? ` (1/${Math.round(s.streamBytes / s.bytesUp)})` : ''}`,
    ],
    [
      'events',
      s.task === 'detect' ? `${e.new} new, ${e.update} update, ${e.end} end` : `${e.scene} scene changes`,
    ],
    ...restarts,
    ['latency p50 / p95', `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p95)}`],
    ['wall time', `${(s.elapsedMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`;
}
