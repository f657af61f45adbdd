// What the video bench writes: table.md (also its section of docs/benchmarks.md) and the chart of
// bytes up over time against streaming the file.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { describeMachine } from '../machine.ts';
import {
  GOALS,
  type GoalCheck,
  goalChecks,
  type Totals,
  type VideoBenchResults,
  type VideoRow,
} from './summary.ts';

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);
const fixed = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

/** Bytes in B, kB or MB (powers of 1000), three significant figures or so. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(2)} MB`;
}

const cpu = (r: { edgeCpuMsPerFrame: number | null; ffmpegCpuMsPerFrame: number | null }) =>
  r.edgeCpuMsPerFrame === null
    ? '—'
    : r.ffmpegCpuMsPerFrame === null
      ? r.edgeCpuMsPerFrame.toFixed(1)
      : `${r.edgeCpuMsPerFrame.toFixed(1)} + ${r.ffmpegCpuMsPerFrame.toFixed(1)}`;

function row(r: VideoRow): string {
  return `| ${r.name} | ${r.task} | ${r.durationS.toFixed(1)} | ${r.decodedFrames ?? '—'} | ${r.analysedFrames} | ${r.inferredFrames} (${pct(ratio(r.inferredFrames, r.analysedFrames))}) | ${r.offloads} | ${formatBytes(r.bytesUp)} | ${formatBytes(r.streamBytes)} | **${pct(ratio(r.bytesUp, r.streamBytes))}** | ${formatBytes(r.jpegBytes)} | ${pct(ratio(r.bytesUp, r.jpegBytes))} | **${fixed(r.agreement, 3)}** | ${cpu(r)} | ${r.events} |`;
}

function totalRow(label: string, t: Totals): string {
  return `| **${label}** | | | | ${t.analysedFrames} | ${t.inferredFrames} (**${pct(t.inferredFraction)}**) | ${t.offloads} | ${formatBytes(t.bytesUp)} | ${formatBytes(t.streamBytes)} | **${pct(t.bytesUpOverStream)}** | ${formatBytes(t.jpegBytes)} | ${pct(t.bytesUpOverJpeg)} | **${fixed(t.agreement, 3)}** | ${cpu(t)} | ${t.events} |`;
}

/** One line per goal: met or missed, and by how much. */
export function goalLine(g: GoalCheck): string {
  const asPct = g.goal < 1 && !g.what.endsWith('agreement');
  const show = (v: number) => (asPct ? pct(v) : v.toFixed(3));
  const sign = g.bound === 'max' ? '≤' : '≥';
  if (g.value === null) return `- ${g.what}: no figure (goal ${sign} ${show(g.goal)})`;
  const verdict = g.met ? '**meets**' : '**misses**';
  const by =
    g.met || g.goal === 0
      ? ''
      : g.bound === 'max'
        ? `, ${(g.value / g.goal).toFixed(1)}× the goal`
        : `, short by ${(g.goal - g.value).toFixed(3)}`;
  return `- ${g.what}: ${show(g.value)} ${verdict} the goal ${sign} ${show(g.goal)}${by}`;
}

/** The bench's table.md, also its section of docs/benchmarks.md. */
export function videoTable(r: VideoBenchResults): string {
  const s = r.settings;
  const checks = goalChecks(r.videos, r.totals);
  const missed = checks.filter((c) => !c.met);
  const lines = [
    `Produced by \`${r.command}\` on ${describeMachine(r.machine)}, ${r.machine.date.slice(0, 10)}, in ${Math.round(r.runtimeS)} s: ${new Set(r.videos.map((v) => v.name)).size} clip(s) at ${s.fps} fps, pace ${s.pace}${s.limit ? `, at most ${s.limit} frames a clip` : ''}; classify ${s.edgeModel} → ${s.cloudModel}, detect ${s.detector} with crops verified by ${s.cloudModel}; faces ${s.faces}; a gateway on loopback in its own process.`,
    '',
    '![bytes up over time against streaming the file](chart.svg)',
    '',
    "*Through the model*: analysed frames the edge model ran on (the others reused the scene gate or the tracker's result). *Offloads*: frames (classify) or crops and frames (detect) sent to the cloud. *Bytes up*: envelope bytes of those payloads. *Stream*: the file's own bytes for the analysed duration, what streaming the camera would send. *JPEG q85*: every analysed frame at the analysed size. *Agreement*: with the same cascade on every analysed frame with no gate and no tracker, per frame (classify: the same label; detect: F1 at IoU 0.5, labels matching), averaged. *Edge CPU*: the agent's process, plus the ffmpeg decoder, ms per analysed frame.",
    '',
    '| clip | task | s | decoded | analysed | through the model | offloads | bytes up | stream | up / stream | JPEG q85 | up / JPEG | agreement | edge CPU ms / frame | events |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.videos.map(row),
    ...Object.entries(r.totals.byTask).map(([task, t]) => totalRow(`all, ${task}`, t)),
    ...(Object.keys(r.totals.byTask).length > 1 ? [totalRow('all', r.totals)] : []),
    '',
    '**Reference run** (no gate, no tracker, every analysed frame through the model): what the gate and the tracker save.',
    '',
    '| clip | task | through the model | offloads | bytes up | edge CPU ms / frame |',
    '|---|---|---|---|---|---|',
    ...r.videos.map(
      (v) =>
        `| ${v.name} | ${v.task} | ${v.reference.inferredFrames} → ${v.inferredFrames} | ${v.reference.offloads} → ${v.offloads} | ${formatBytes(v.reference.bytesUp)} → ${formatBytes(v.bytesUp)} | ${v.reference.edgeCpuMsPerFrame.toFixed(1)} → ${v.edgeCpuMsPerFrame.toFixed(1)} |`,
    ),
    '',
    `**Goals** (bytes up ≤ 1/20 of the stream per clip and task, agreement ≥ ${GOALS.agreement}, the model on ≤ ${GOALS.inferredFraction * 100} % of analysed frames over the set): ${missed.length === 0 ? 'all met' : `${checks.length - missed.length} of ${checks.length} met`}.`,
    '',
    ...checks.map(goalLine),
  ];
  return `${lines.join('\n')}\n`;
}

interface Point {
  clip: string;
  series: string;
  t: number;
  kB: number;
}

/** Cumulative kB at the end of each second; zero points are left out (the axis is logarithmic). */
export function chartPoints(rows: readonly VideoRow[]): Point[] {
  const out: Point[] = [];
  const clips = new Map<string, VideoRow>();
  for (const r of rows) if (!clips.has(r.name)) clips.set(r.name, r);
  for (const [clip, r] of clips) {
    const seconds = r.bytesUpPerS.length;
    for (let t = 1; t <= seconds; t++) {
      const share = Math.min(t, r.durationS) / r.durationS;
      out.push({ clip, series: 'stream (the file)', t, kB: (r.streamBytes * share) / 1000 });
      out.push({
        clip,
        series: `every frame, JPEG q85 (${r.task} size)`,
        t,
        kB: (r.jpegBytes * share) / 1000,
      });
    }
  }
  for (const r of rows) {
    let total = 0;
    for (const [i, b] of r.bytesUpPerS.entries()) {
      total += b;
      if (total > 0) out.push({ clip: r.name, series: `cascade, ${r.task}`, t: i + 1, kB: total / 1000 });
    }
  }
  return out;
}

/** Bytes up over time, per clip, against streaming the file and sending every frame as JPEG. */
export async function videoChartSvg(r: VideoBenchResults): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `squeezegate on video: bytes up over time (${r.settings.fps} fps)`,
      subtitle: 'cumulative, log scale; dashed: the baselines',
    },
    background: 'white',
    data: { values: chartPoints(r.videos) },
    facet: { field: 'clip', type: 'nominal', title: null },
    columns: 3,
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 260,
      height: 220,
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds into the clip' },
        y: { field: 'kB', type: 'quantitative', title: 'bytes up so far (kB)', scale: { type: 'log' } },
        color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400 } },
        strokeDash: {
          condition: { test: "indexof(datum.series, 'cascade') < 0", value: [5, 3] },
          value: [1, 0],
        },
      },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
