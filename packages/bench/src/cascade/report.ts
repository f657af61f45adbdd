import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { describeMachine, type MachineInfo } from '../machine.ts';
import type { HeadlineRow } from '../publish.ts';
import type { CascadeResults, Prices, Row } from './analysis.ts';
import type { FusionResults } from './fusion.ts';
import type { SignalResults } from './signals.ts';

const COLUMNS: (keyof Row)[] = [
  'payload',
  'policy',
  'param',
  'offloadFraction',
  'cascadeTop1',
  'keptOfCloud',
  'bytesPerFrame',
  'bytesRatio',
  'costPer1kFrames',
];

export function toCsv(rows: readonly Row[]): string {
  const cell = (v: unknown) =>
    v === null ? '' : typeof v === 'number' ? String(Number(v.toFixed(6))) : String(v);
  return `${COLUMNS.join(',')}\n${rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(',')).join('\n')}\n`;
}

const pct = (v: number | null | undefined) => (v == null ? '—' : `${(v * 100).toFixed(1)} %`);
const kb = (v: number) => `${(v / 1000).toFixed(1)} kB`;

/** The bench's section of docs/benchmarks.md: policies at the 99 % point, baselines, payload shaping. */
export function toMarkdown(
  r: CascadeResults,
  context: { machine: MachineInfo; prices: Prices; command: string },
): string {
  const policies = [
    'maxProb',
    'margin',
    'entropy',
    'calibrated',
    'learned',
    'rate',
    'budget',
    'random',
    'oracle',
  ];
  const payloads = r.payloads.map((p) => p.payload);
  const lines = [
    `Produced by \`${context.command}\` on ${describeMachine(context.machine)}, ${context.machine.date.slice(0, 10)}; ${r.frames} labelled frames.`,
    '',
    `Edge-only (SqueezeNet 1.1) top-1 **${pct(r.edgeTop1)}**, cloud-only (MobileNetV2 int8 on every frame as captured) **${pct(r.cloudTop1)}**; the target, 99 % of cloud-only, is ${pct(r.target)}.`,
    '',
    '**Smallest offload fraction that keeps ≥ 99 % of cloud-only top-1**, by policy and payload (— = never reached; bytes relative to sending every frame as captured in brackets):',
    '',
    `| policy | ${payloads.join(' | ')} |`,
    `|---|${payloads.map(() => '---').join('|')}|`,
    ...policies.map(
      (p) =>
        `| ${p} | ${payloads
          .map((pl) => {
            const f = r.minOffloadFor99[pl]?.[p];
            return f == null ? '—' : `${pct(f)} (${pct(r.bytesRatioFor99[pl]?.[p])})`;
          })
          .join(' | ')} |`,
    ),
    '',
    `Temperature scaling (cross-fitted on halves): T = ${r.temperature.values.map((t) => t.toFixed(2)).join(' / ')}, ECE ${r.temperature.eceBefore.toFixed(4)} → ${r.temperature.eceAfter.toFixed(4)}.`,
    '',
    "**Payload shaping**: the cloud model on what an offloaded frame sends (`<kind>-q<n>` JPEG 4:2:0, `<kind>-webp-q<n>`, `<kind>-avif-q<n>`; crop: the edge's 224 px view, frame: the whole frame at 256 px short side; no face redaction, except the `+pixelate-…` row: the agent's default payload as it leaves, cut, faces searched and pixelated, and encoded by the agent's own code).",
    '',
    '| payload | bytes / frame | of captured | cloud top-1 |',
    '|---|---|---|---|',
    ...r.payloads.map(
      (p) => `| ${p.payload} | ${kb(p.bytesPerFrame)} | ${pct(p.bytesRatio)} | ${pct(p.cloudTop1)} |`,
    ),
    '',
    `**Operating points** (payload original; cost per 1000 frames at $${context.prices.perGb}/GB uplink and $${context.prices.per1kInferences} per 1000 cloud inferences):`,
    '',
    '| policy | offload | cascade top-1 | kept of cloud-only | bytes / frame | of captured | cost / 1000 frames |',
    '|---|---|---|---|---|---|---|',
    ...operatingPoints(r).map(
      (x) =>
        `| ${x.label} | ${pct(x.offloadFraction)} | ${pct(x.cascadeTop1)} | ${pct(x.keptOfCloud)} | ${kb(x.bytesPerFrame)} | ${pct(x.bytesRatio)} | $${x.costPer1kFrames.toFixed(4)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

function operatingPoints(r: CascadeResults): (Row & { label: string })[] {
  const at = (policy: string, offload: number) =>
    r.rows.find(
      (x) => x.payload === 'original' && x.policy === policy && x.offloadFraction >= offload - 1e-9,
    );
  const out: (Row & { label: string })[] = [];
  for (const policy of ['edge-only', 'cloud-only', 'oracle']) {
    const x = r.rows.find((y) => y.payload === 'original' && y.policy === policy);
    if (x) out.push({ ...x, label: policy });
  }
  for (const [policy, f] of Object.entries(r.minOffloadFor99.original ?? {})) {
    if (f == null || ['oracle', 'random'].includes(policy)) continue;
    const x = at(policy, f);
    if (x) out.push({ ...x, label: `${policy} at 99 %` });
  }
  for (const policy of ['maxProb', 'learned']) {
    const x = at(policy, 0.3);
    if (x) out.push({ ...x, label: `${policy} at 30 % offload` });
  }
  return out;
}

/** Cascade top-1 against offload fraction, one curve per policy, baselines marked. */
export async function toChartSvg(r: CascadeResults, payload = 'original'): Promise<string> {
  const rows = r.rows.filter((x) => x.payload === payload);
  const curves = rows.filter((x) => !['edge-only', 'cloud-only', 'oracle'].includes(x.policy));
  const marks = rows.filter((x) => ['edge-only', 'cloud-only', 'oracle'].includes(x.policy));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `squeezegate cascade: SqueezeNet 1.1 → MobileNetV2 int8 (${r.frames} frames, payload ${payload})`,
      subtitle: 'dashed: 99 % of cloud-only top-1',
    },
    width: 640,
    height: 400,
    background: 'white',
    layer: [
      {
        data: { values: curves },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: {
            field: 'offloadFraction',
            type: 'quantitative',
            title: 'offload fraction',
            axis: { format: '%' },
          },
          y: {
            field: 'cascadeTop1',
            type: 'quantitative',
            title: 'cascade top-1',
            axis: { format: '%' },
            scale: { domain: [Math.floor(r.edgeTop1 * 20) / 20, 0.9] },
          },
          color: { field: 'policy', type: 'nominal', title: 'policy' },
          strokeDash: {
            condition: { test: "datum.policy === 'random'", value: [4, 3] },
            value: [1, 0],
          },
        },
      },
      {
        data: { values: marks },
        mark: { type: 'point', filled: true, size: 90, shape: 'diamond', color: 'black' },
        encoding: {
          x: { field: 'offloadFraction', type: 'quantitative' },
          y: { field: 'cascadeTop1', type: 'quantitative' },
        },
      },
      // Labels beside the points: to the right, except cloud-only at the right edge.
      ...(['left', 'right'] as const).map((align) => ({
        data: { values: marks.filter((m) => (m.policy === 'cloud-only') === (align === 'right')) },
        mark: {
          type: 'text' as const,
          dx: align === 'left' ? 8 : -8,
          dy: align === 'left' ? -8 : 16,
          align,
          fontSize: 11,
        },
        encoding: {
          x: { field: 'offloadFraction', type: 'quantitative' as const },
          y: { field: 'cascadeTop1', type: 'quantitative' as const },
          text: { field: 'policy' },
        },
      })),
      {
        data: { values: [{ y: r.target }] },
        mark: { type: 'rule', strokeDash: [6, 4], color: 'gray' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The cascade's rows of the README's headline table. */
export function cascadeHeadline(r: CascadeResults): HeadlineRow[] {
  const h = r.headline;
  return [
    {
      figure: `Top-1, SqueezeNet 1.1 alone on the device (${r.frames} labelled frames)`,
      value: pct(h.edgeTop1),
    },
    { figure: 'Top-1, every frame sent to the cloud model (MobileNetV2 int8)', value: pct(h.cloudTop1) },
    {
      figure: `Frames sent to keep 99 % of the cloud's top-1 (best rule${h.best ? `: ${h.best}` : ''}, payload ${h.payload})`,
      value:
        h.best === null
          ? 'not reached'
          : `${pct(h.offloadFor99PctOfCloud[h.best])} of frames, ${pct(h.bytesRatioAt99)} of the bytes`,
    },
    {
      figure: "Cheapest payload within 1 point of the cloud's top-1 on the file as captured",
      value:
        h.cheapestNearOriginal === null
          ? 'none'
          : `${h.cheapestNearOriginal.payload}: ${kb(h.cheapestNearOriginal.bytesPerFrame)} (${pct(h.cheapestNearOriginal.bytesRatio)} of captured), cloud top-1 ${pct(h.cheapestNearOriginal.cloudTop1)}`,
    },
  ];
}

/** The README rows of issue 16: the best signal that costs an extra pass, and the fused defaults. */
export function deferralHeadline(signals: SignalResults, fusion: FusionResults): HeadlineRow[] {
  const rows: HeadlineRow[] = [];
  const extra = signals.rows
    .filter((r) => r.extraMs !== null && r.extraMs > 0.5 && r.minOffloadFor99.original != null)
    .sort((a, b) => a.minOffloadFor99.original! - b.minOffloadFor99.original!)[0];
  if (extra) {
    rows.push({
      figure: `Frames sent to keep 99 % of the cloud's top-1 with one more edge pass (best: ${extra.signal}, payload original)`,
      value: `${pct(extra.minOffloadFor99.original)} of frames, for ${extra.extraMs!.toFixed(1)} ms more per frame`,
    });
  }
  const agent = fusion.rows.find((r) => r.payload.includes('+'));
  if (agent) {
    rows.push({
      figure: `Kept of cloud-only top-1 with the agent's defaults (redacted WebP crop, maxProb < ${fusion.threshold}, answers fused), weight picked on half the set, scored on the other`,
      value: `${pct(agent.crossFitted.kept)} (${pct(agent.keptByWeight['0'])} unfused) at ${pct(agent.bytesRatio)} of the bytes`,
    });
  }
  return rows;
}

export function toSignalsCsv(curves: SignalResults['curves']): string {
  const cols = ['payload', 'policy', 'offloadFraction', 'cascadeTop1', 'bytesRatio'] as const;
  const cell = (v: string | number) => (typeof v === 'number' ? String(Number(v.toFixed(6))) : v);
  return `${cols.join(',')}\n${curves.map((c) => cols.map((k) => cell(c[k])).join(',')).join('\n')}\n`;
}

/** The richer-edge-signals table (issue 16 §2): min offload at 99 % per payload, extra edge ms. */
export function signalsMarkdown(s: SignalResults, context: { altModel: string }): string {
  const payloads = [...new Set(s.rows.flatMap((r) => Object.keys(r.minOffloadFor99)))];
  const shaped = payloads.filter((p) => p !== 'original');
  const capPayload = s.rows.find((r) => r.atBytesCap)?.atBytesCap?.payload ?? null;
  const ms = (v: number | null) => (v == null ? '—' : v.toFixed(2));
  const spread = (r: SignalResults['rows'][number]) =>
    r.spread?.interval90
      ? `${pct(r.spread.interval90[0])}–${pct(r.spread.interval90[1])}, ${pct(r.spread.belowReference)}`
      : '—';
  const cost = s.cost
    ? `timed on ${s.cost.frames} frames in this run; the edge's own view + inference took ${s.cost.baseMs.toFixed(2)} ms/frame`
    : 'not timed in this run';
  return [
    `**Richer edge signals** (issue 16 §2), each cross-fitted on the same two folds: \`flip\`/\`alt\` rank by the mean of the edge's top-1 probability and the mirrored pass's (\`flip\`) or ${context.altModel}'s (\`alt\`) probability of that class; \`flip+alt\` the mean of all three; \`learned+…\` add those passes' features (agreement, that probability, the alt model's own top probability) to the learned rule, \`learned+agree\` is the rule on [p1, margin, flipAgree, altAgree, altP1]; \`learned+pooled\` adds the edge's 512 pooled activations before its classifier. Extra edge ms per frame: ${cost}.`,
    '',
    `| signal | extra edge ms / frame | ${payloads.map((p) => `min offload at 99 %, ${p}`).join(' | ')} | original: 90 % interval, resamples below learned | ${shaped.map((p) => `min offload at 99 % of ${p}'s own cloud top-1`).join(' | ')}${capPayload ? ` | ${capPayload} at ≤ ${pct(s.bytesCap)} of captured bytes: offload, kept of cloud-only` : ''} |`,
    `|---|---|${[...payloads, ...shaped].map(() => '---').join('|')}|---${capPayload ? '|---' : ''}|`,
    ...s.rows.map(
      (r) =>
        `| ${r.signal} | ${ms(r.extraMs)} | ${payloads.map((p) => pct(r.minOffloadFor99[p])).join(' | ')} | ${spread(r)} | ${shaped.map((p) => pct(r.minOffloadFor99OfPayload[p])).join(' | ')}${
          capPayload
            ? ` | ${r.atBytesCap ? `${pct(r.atBytesCap.offloadFraction)}, ${pct(r.atBytesCap.keptOfCloud)}` : '—'}`
            : ''
        } |`,
    ),
    '',
  ].join('\n');
}
