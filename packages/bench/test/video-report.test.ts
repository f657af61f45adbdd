import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseFrameCount } from '../src/video/clips.ts';
import { defaultVideoSource, videoBenchConfigFromCli } from '../src/video/config.ts';
import { chartPoints, formatBytes, goalLine, videoChartSvg, videoTable } from '../src/video/report.ts';
import { type VideoBenchResults, type VideoRow, videoTotals } from '../src/video/summary.ts';

const row = (name: string, task: 'classify' | 'detect', over: Partial<VideoRow> = {}): VideoRow => ({
  name,
  task,
  durationS: 3,
  decodedFrames: 36,
  analysedFrames: 15,
  inferredFrames: 6,
  reusedFrames: 9,
  droppedFrames: 0,
  failedFrames: 0,
  offloads: 2,
  bytesUp: 12_000,
  wireBytes: 13_500,
  streamBytes: 300_000,
  jpegBytes: 150_000,
  agreement: 0.98,
  edgeCpuMsPerFrame: 20.25,
  ffmpegCpuMsPerFrame: 3.5,
  events: 4,
  reference: { inferredFrames: 15, offloads: 5, bytesUp: 30_000, edgeCpuMsPerFrame: 40 },
  bytesUpPerS: [12_000, 0, 0],
  wallS: 2,
  ...over,
});

const results = (videos: VideoRow[]): VideoBenchResults => ({
  machine: {
    cpu: 'Test CPU',
    cores: 2,
    memoryGb: 8,
    platform: 'linux',
    node: 'v20',
    date: '2026-11-26T10:00:00.000Z',
  },
  command: 'npm run bench:video -- --task both',
  settings: {
    source: '../shared/datasets/video-sample',
    fps: 5,
    pace: 'asap',
    limit: null,
    tasks: ['classify', 'detect'],
    edgeModel: 'squeezenet1.1',
    detector: 'yolox-nano-416',
    cloudModel: 'mobilenetv2-12-int8',
    faces: 'pixelate',
    ffmpeg: 'ffmpeg version 4.1',
  },
  runtimeS: 61.4,
  videos,
  totals: videoTotals(videos),
});

describe('videoTable', () => {
  const r = results([row('lot', 'classify'), row('lot', 'detect', { bytesUp: 60_000, agreement: 0.9 })]);
  const md = videoTable(r);

  it('says how, where and when the figures were made', () => {
    expect(md.split('\n')[0]).toBe(
      'Produced by `npm run bench:video -- --task both` on Test CPU, 2 cores, 8 GiB, linux, Node v20, 2026-11-26, in 61 s: 1 clip(s) at 5 fps, pace asap; classify squeezenet1.1 → mobilenetv2-12-int8, detect yolox-nano-416 with crops verified by mobilenetv2-12-int8; faces pixelate; a gateway on loopback in its own process.',
    );
    expect(md).toContain('![bytes up over time against streaming the file](chart.svg)');
  });

  it('has a row per clip and task, then the totals', () => {
    expect(md).toContain(
      '| lot | classify | 3.0 | 36 | 15 | 6 (40.0 %) | 2 | 12.0 kB | 300.0 kB | **4.0 %** | 150.0 kB | 8.0 % | **0.980** | 20.3 + 3.5 | 4 |',
    );
    expect(md).toContain(
      '| lot | detect | 3.0 | 36 | 15 | 6 (40.0 %) | 2 | 60.0 kB | 300.0 kB | **20.0 %** |',
    );
    expect(md).toContain(
      '| **all, classify** | | | | 15 | 6 (**40.0 %**) | 2 | 12.0 kB | 300.0 kB | **4.0 %** | 150.0 kB | 8.0 % | **0.980** | 20.3 + 3.5 | 4 |',
    );
    expect(md).toContain('| **all** | | | | 30 | 12 (**40.0 %**) | 4 | 72.0 kB | 600.0 kB | **12.0 %** |');
    expect(md).toContain('| lot | classify | 15 → 6 | 5 → 2 | 30.0 kB → 12.0 kB | 40.0 → 20.3 |');
  });

  it('prints every goal against its figure, and how far a miss is', () => {
    expect(md).toContain('): 4 of 6 met.');
    expect(md).toContain('- lot, classify: bytes up / stream: 4.0 % **meets** the goal ≤ 5.0 %');
    expect(md).toContain(
      '- lot, detect: bytes up / stream: 20.0 % **misses** the goal ≤ 5.0 %, 4.0× the goal',
    );
    expect(md).toContain('- lot, detect: agreement: 0.900 **misses** the goal ≥ 0.970, short by 0.070');
    expect(md).toContain('- detect, all clips: model on analysed frames: 40.0 % **meets** the goal ≤ 60.0 %');
  });
});

describe('goalLine and formatBytes', () => {
  it('says when there is no figure', () => {
    expect(goalLine({ what: 'x: agreement', value: null, goal: 0.97, bound: 'min', met: false })).toBe(
      '- x: agreement: no figure (goal ≥ 0.970)',
    );
  });
  it('prints B, kB and MB', () => {
    expect([formatBytes(999), formatBytes(1500), formatBytes(2_811_553)]).toEqual([
      '999 B',
      '1.5 kB',
      '2.81 MB',
    ]);
  });
});

describe('the chart', () => {
  const r = results([
    row('lot', 'classify'),
    row('lot', 'detect'),
    row('street', 'classify', { bytesUpPerS: [0, 500, 0] }),
  ]);

  it('has the stream, the JPEG baseline and each cascade, cumulative, without zero points', () => {
    const points = chartPoints(r.videos);
    const of = (clip: string, series: string) => points.filter((p) => p.clip === clip && p.series === series);
    expect(of('lot', 'stream (the file)').map((p) => p.kB)).toEqual([100, 200, 300]);
    expect(of('street', 'cascade, classify').map((p) => [p.t, p.kB])).toEqual([
      [2, 0.5],
      [3, 0.5],
    ]);
    expect(of('lot', 'cascade, detect')).toHaveLength(3);
    expect(points.every((p) => p.kB > 0)).toBe(true);
  });

  it('renders an SVG with a panel per clip', async () => {
    const svg = await videoChartSvg(r);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('lot');
    expect(svg).toContain('street');
    expect(svg).toContain('cascade, detect');
  });
});

describe("ffmpeg's banner and progress", () => {
  it('gives the duration', () => {
    expect(parseDuration('  Duration: 00:01:19.50, start: 0.000000, bitrate: 818 kb/s')).toBeCloseTo(
      79.5,
      10,
    );
    expect(parseDuration('Duration: N/A, bitrate: N/A')).toBeNull();
  });
  it('gives the frames copied: the last count', () => {
    const log =
      'frame=  120 fps=0.0 q=-1.0 size=N/A\rframe=  377 fps=0.0 q=-1.0 Lsize=N/A time=00:00:30.08\n';
    expect(parseFrameCount(log)).toBe(377);
    expect(parseFrameCount('Duration: 00:00:01.00')).toBeNull();
  });
});

describe('the command line', () => {
  const env = { SQUEEZEGATE_DATASET_DIR: '/data/imagenet-sample', SQUEEZEGATE_MODELS_DIR: '/models' };

  it('defaults to the video sample beside the image set, both tasks at 5 fps', async () => {
    const cli = await videoBenchConfigFromCli([], env, { root: '/repo' });
    if (cli.kind !== 'run') throw new Error(cli.stderr);
    expect(cli.config).toEqual({
      source: '/data/video-sample',
      task: 'both',
      fps: 5,
      pace: 'asap',
      modelsDir: '/models',
      out: '/repo/docs/bench/video',
    });
    expect(defaultVideoSource(undefined)).toBe('../shared/datasets/video-sample');
  });

  it('lists every bad setting at once and exits 2', async () => {
    const cli = await videoBenchConfigFromCli(['--task', 'track', '--fps', '0', '--pace', 'slow'], env);
    if (cli.kind !== 'exit') throw new Error('expected an exit');
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/^bench:video: invalid configuration\n/);
    for (const key of ['task', 'fps', 'pace']) expect(cli.stderr).toContain(`  - ${key}:`);
  });

  it('refuses a docs file without its markers before measuring anything', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'video-cli-'));
    const doc = path.join(dir, 'benchmarks.md');
    await writeFile(doc, '# Benchmarks\n<!-- bench:detect:start -->\n<!-- bench:detect:end -->\n');
    const cli = await videoBenchConfigFromCli(['--doc', doc], env);
    if (cli.kind !== 'exit') throw new Error('expected an exit');
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('<!-- bench:video:start -->');
  });

  it('prints its help with the goals', async () => {
    const cli = await videoBenchConfigFromCli(['--help'], env);
    if (cli.kind !== 'exit') throw new Error('expected an exit');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^Usage: npm run bench:video -- \[options\]/);
    expect(cli.stdout).toContain('--task <t>');
  });
});
