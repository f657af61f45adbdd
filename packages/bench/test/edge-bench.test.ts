// bench:edge's pure parts: reading /proc, ffmpeg's stream line, the floor's crop-to-tensor, the
// command line and the table.
import { type Preprocess, toModelView, toTensorData } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { edgeBenchConfigFromCli } from '../src/edge/config.ts';
import { cropToTensor, videoSizeFrom } from '../src/edge/floor.ts';
import { parsePeakRssMb, parseStatTicks, treeCpuMs } from '../src/edge/proc-cpu.ts';
import { type EdgeBenchResults, edgeTable } from '../src/edge/report.ts';

describe('parseStatTicks', () => {
  it('reads utime, stime, cutime and cstime after a command name with spaces and parentheses', () => {
    // fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
    const stat = '4242 (node (worker) 1) S 1 4242 4242 0 -1 4194560 900 0 3 0 517 64 12 5 20 0 11 0 77 1 2';
    expect(parseStatTicks(stat)).toEqual({ utime: 517, stime: 64, cutime: 12, cstime: 5 });
  });

  it('is null for a line without the fields', () => {
    expect(parseStatTicks('')).toBeNull();
    expect(parseStatTicks('12 (sh) S 1 2 3')).toBeNull();
  });

  it('reads this process, whose CPU only grows', () => {
    const before = treeCpuMs(process.pid);
    let x = 0;
    for (let i = 0; i < 2e7; i++) x += i % 7;
    expect(x).toBeGreaterThan(0);
    const after = treeCpuMs(process.pid);
    expect(before).not.toBeNull();
    expect(after!).toBeGreaterThanOrEqual(before!);
  });
});

describe('parsePeakRssMb', () => {
  it('reads VmHWM in MiB', () => {
    expect(parsePeakRssMb('Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  100 kB\n')).toBe(
      200,
    );
    expect(parsePeakRssMb('Name:\tnode\n')).toBeNull();
  });
});

describe('videoSizeFrom', () => {
  it("reads the first video stream's size, not the codec tag", () => {
    const log = [
      "Input #0, avi, from 'vtest.avi':",
      '  Duration: 00:01:19.50, start: 0.000000, bitrate: 818 kb/s',
      '    Stream #0:0: Video: msmpeg4v3 (MP43 / 0x3334504D), yuv420p, 768x576, 815 kb/s, 10 fps, 10 tbr',
    ].join('\n');
    expect(videoSizeFrom(log)).toEqual({ width: 768, height: 576 });
    const mp4 =
      '    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709), 768x432 [SAR 1:1 DAR 16:9], 742 kb/s';
    expect(videoSizeFrom(mp4)).toEqual({ width: 768, height: 432 });
    expect(videoSizeFrom('    Stream #0:1: Audio: aac, 44100 Hz')).toBeNull();
  });
});

describe('cropToTensor', () => {
  const preprocess: Preprocess = {
    channelOrder: 'BGR',
    resizeShortSide: 256,
    centerCrop: 224,
    scale: 1 / 255,
    mean: [0.4, 0.5, 0.6],
    std: [0.2, 0.25, 0.3],
  };
  it("gives the agent's tensor: the centre crop, normalised, in the model's channel order", async () => {
    const width = 300;
    const height = 256;
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 31 + (i >> 7)) & 255;
    const view = await toModelView({ pixels: rgb, width, height }, { preprocess });
    const want = toTensorData(view.pixels, preprocess);
    const got = new Float32Array(want.length);
    cropToTensor(rgb, { width, height }, preprocess, got);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('edgeBenchConfigFromCli', () => {
  it('takes the defaults and a video beside the dataset', async () => {
    const cli = await edgeBenchConfigFromCli(['--dataset', '/data/imagenet-sample'], {}, { root: '/repo' });
    expect(cli.kind).toBe('run');
    if (cli.kind !== 'run') return;
    expect(cli.config).toMatchObject({
      frames: 400,
      warmup: 20,
      fps: 5,
      cameras: 4,
      video: '/data/video-sample/vtest.avi',
      out: '/repo/docs/bench/edge',
    });
  });

  it('lists every bad option and exits 2', async () => {
    const cli = await edgeBenchConfigFromCli(['--frames', '0', '--cameras', 'x'], {});
    expect(cli.kind).toBe('exit');
    if (cli.kind !== 'exit') return;
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/dataset/);
    expect(cli.stderr).toMatch(/frames/);
    expect(cli.stderr).toMatch(/cameras/);
  });
});

describe('edgeTable', () => {
  const results = (overFloor: number): EdgeBenchResults => ({
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      memoryGb: 4,
      platform: 'linux',
      node: 'v20',
      date: '2026-11-28T00:00:00Z',
    },
    command: 'npm run bench:edge',
    settings: {
      dataset: 'imagenet-sample',
      video: 'vtest.avi',
      frames: 400,
      warmup: 20,
      fps: 5,
      cameras: 4,
      model: 'squeezenet1.1',
      ffmpeg: 'ffmpeg 5.1',
    },
    floorMsPerFrame: 10,
    agentMsPerFrame: 10 * overFloor,
    overFloor,
    defaultsMsPerFrame: 40,
    rssMb: 180,
    videoFrames: { floor: 378, agent: 378 },
    videoFloorMsPerFrame: 10,
    videoAgentMsPerFrame: 11,
    videoOverFloor: 1.1,
    rssOneCameraMb: 190,
    rssCamerasMb: 250,
    runtimeS: 70,
  });

  it('states the goal met or missed, and by how much', () => {
    expect(edgeTable(results(1.05))).toContain('at most 1.15× the floor: met (1.05×)');
    expect(edgeTable(results(1.38))).toContain('missed by 1.20× (1.38×)');
    expect(edgeTable(results(1.05))).toContain(
      '| images, defaults (maxProb < 0.85, crop webp q80, faces pixelate) | 10.00 | 40.00 | 4.00× |',
    );
  });
});
