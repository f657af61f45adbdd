// bench:gateway's pure parts: the keys against the floor, the batch that pays, the table and the
// README rows, the --workers list.
import {
  type GatewayBenchResults,
  gatewayBenchConfigFromCli,
  gatewayHeadline,
  gatewayTable,
} from '@squeezegate/bench';
import { describe, expect, it } from 'vitest';
import { combineRuns, samplesOf } from '../src/gateway/load.ts';
import { batchThatPays, floorKeys } from '../src/gateway/report.ts';
import { latencySummary, median, threadsFor } from '../src/gateway/stats.ts';

const run = (label: string, framesPerSec: number, results: number, busy: number, meanBatch: number) => ({
  label,
  frames: 800,
  results,
  busy,
  errors: 0,
  elapsedMs: 3000,
  framesPerSec,
  latencyMs: { p50: 55.4, p95: 64.5, p99: 71.5 },
  insideMs: { p50: 50.1, p99: 66.2, p95: 60 },
  meanBatch,
  peakRssMb: 470.2,
  cpuMsPerFrame: 6.84,
});

const results: GatewayBenchResults = {
  framesPerSec: 148,
  floorFps: 182,
  overFloor: 148 / 182,
  halfLoadFps: 74,
  p99HalfLoadMs: 42.6,
  p99FloorMs: 17.2,
  p50HalfLoadMs: 11.7,
  p50FloorMs: 6.5,
  p99HalfLoadNoDelayMs: 18.9,
  cpuMsPerFrame: 6.84,
  floorCpuMsPerFrame: 5.48,
  cpuOverFloor: 5.48 / 6.84,
  batchedOverUnbatched: 1.66,
  batchedCpuSaving: 1.28,
  p99Ms: 71.5,
  peakRssMb: 470.2,
  goals: { overFloor: 0.8, p99GapMs: 5 },
  met: { overFloor: true, p99Gap: false },
  batchSweep: [
    { batch: 1, imagesPerSec: 120, cpuMsPerImage: 10 },
    { batch: 4, imagesPerSec: 170, cpuMsPerImage: 8.3 },
    { batch: 8, imagesPerSec: 180, cpuMsPerImage: 8 },
    { batch: 16, imagesPerSec: 176, cpuMsPerImage: 8.1 },
  ],
  batchThatPays: 4,
  scaling: [
    {
      workers: 1,
      threads: 2,
      framesPerSec: 148,
      floorFps: 182,
      overFloor: 148 / 182,
      cpuMsPerFrame: 6.84,
      floorCpuMsPerFrame: 5.48,
    },
    {
      workers: 2,
      threads: 1,
      framesPerSec: 62,
      floorFps: 66,
      overFloor: 62 / 66,
      cpuMsPerFrame: 8.71,
      floorCpuMsPerFrame: 6.77,
    },
  ],
  overload: { sent: 800, results: 122, busy: 678, errors: 0, peakRssMb: 524 },
  machine: {
    cpu: 'Test CPU',
    cores: 2,
    memoryGb: 8,
    platform: 'linux',
    node: 'v20',
    date: '2026-01-02T00:00:00Z',
  },
  loadAverage: { start: 7.25, end: 9.5 },
  command: 'npm run bench:gateway -- --dataset d',
  settings: {
    devices: 4,
    frames: 800,
    window: 4,
    workers: 1,
    threads: 2,
    maxBatch: 8,
    maxQueueDelayMs: 2,
    overload: 10,
  },
  runs: [
    run('batched', 148, 800, 0, 5.33),
    run('unbatched', 89, 800, 0, 1),
    run('overload', 93, 122, 678, 7.63),
  ],
};

describe('floorKeys', () => {
  it('averages the floor runs, and says which goal is met', () => {
    const k = floorKeys({ gatewayFps: 90, floorFps: [100, 120], p99HalfLoadMs: 24, p99FloorMs: 20 });
    expect(k.floorFps).toBe(110);
    expect(k.overFloor).toBeCloseTo(90 / 110, 10);
    expect(k.p99GapMs).toBe(4);
    expect(k.met).toEqual({ overFloor: true, p99Gap: true });
    expect(floorKeys({ gatewayFps: 70, floorFps: [100], p99HalfLoadMs: 25.5, p99FloorMs: 20 }).met).toEqual({
      overFloor: false,
      p99Gap: false,
    });
  });
});

describe('batchThatPays', () => {
  it('is the smallest batch within 5 % of the lowest CPU per image', () => {
    expect(batchThatPays(results.batchSweep)).toBe(4);
    const p = (batch: number, cpuMsPerImage: number) => ({ batch, imagesPerSec: 1, cpuMsPerImage });
    expect(batchThatPays([p(1, 10), p(8, 9.6)])).toBe(1);
    expect(batchThatPays([p(1, 10), p(8, 9)])).toBe(8);
    expect(batchThatPays([p(4, 6), p(1, 9)])).toBe(4);
  });
});

describe('stats', () => {
  it('gives nearest-rank percentiles in any order, medians, and threads shared out', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(latencySummary(xs)).toEqual({ p50: 50, p95: 95, p99: 99 });
    expect(latencySummary([]).p99).toBeNaN();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect([threadsFor(1, 2), threadsFor(2, 2), threadsFor(4, 2), threadsFor(3, 8)]).toEqual([2, 1, 1, 2]);
  });
});

describe('combineRuns', () => {
  it('sums counts and time, pools the latencies, and weighs per-frame figures by results', () => {
    const a = { ...run('half load', 0, 10, 0, 1), elapsedMs: 1000, cpuMsPerFrame: 8, peakRssMb: 400 };
    const b = { ...run('half load', 0, 30, 2, 2), elapsedMs: 3000, cpuMsPerFrame: 4, peakRssMb: 420 };
    samplesOf.set(a, { latencies: Array.from({ length: 10 }, (_, i) => i + 1), inside: [1] });
    samplesOf.set(b, { latencies: Array.from({ length: 32 }, (_, i) => 100 + i), inside: [2, 3] });
    const c = combineRuns('half load', [a, b]);
    expect(c).toMatchObject({ label: 'half load', frames: 1600, results: 40, busy: 2, elapsedMs: 4000 });
    expect(c.framesPerSec).toBe(10);
    expect(c.meanBatch).toBe(1.75);
    expect(c.cpuMsPerFrame).toBe(5);
    expect(c.peakRssMb).toBe(420);
    expect(c.latencyMs.p50).toBe(110);
    expect(c.latencyMs.p99).toBe(131);
    expect(c.insideMs.p50).toBe(2);
    expect(samplesOf.get(c)?.latencies).toHaveLength(42);
  });
});

describe('gatewayTable and gatewayHeadline', () => {
  it('write every figure from the results, with the goals and by how much they are missed', () => {
    const table = gatewayTable(results);
    expect(table).toMatch(/^Produced by `npm run bench:gateway -- --dataset d` on Test CPU, 2 cores, 8 GiB/);
    expect(table).toContain('(1-minute load average 7.3 at the start, 9.5 at the end)');
    expect(table).toContain('| gateway / floor ≥ 0.8 | **0.81** (148 / 182 frames/s) | met |');
    expect(table).toContain(
      "| p99 at half load − floor's p99 ≤ 5 ms | **25.4 ms** (42.6 − 17.2 ms at 74 frames/s) | missed by 20.4 ms |",
    );
    expect(table).toContain('| (the same at p50) | 5.2 ms (11.7 − 6.5 ms) | |');
    expect(table).toContain('| (p99 with max queue delay 0) | 1.7 ms (18.9 − 17.2 ms) | |');
    expect(table).toContain('| floor, half load | 74 | 6.5 / – / 17.2 | | 1 | | | |');
    expect(table).toContain('| (CPU per frame, floor / gateway) | 0.80 (5.48 / 6.84 ms) | |');
    expect(table).toContain(
      '| batched | 148 | 55.4 / 64.5 / 71.5 | 50.1 / 66.2 | 5.33 | 6.84 | 470 | 800 + 0 busy of 800 |',
    );
    expect(table).toContain('| floor, flat out | 182 | | | 8 | 5.48 | | |');
    expect(table).toContain('the smallest batch within 5 % of the lowest CPU per image is **4**');
    expect(table).toContain('| 1 | 120 | 10.00 | 125 % |');
    expect(table).toContain('| 16 | 176 | 8.10 | 101 % |');
    expect(table).toContain('Batched over unbatched **1.66x** in frames/s, **1.28x** less CPU per frame.');
    expect(table).toContain('| 2 × 1 | 62 | 66 | 0.94 | 8.71 / 6.77 |');
    expect(table).toContain(
      '800 frames were sent and every one was answered (122 results, 678 busy, 0 errors)',
    );
    expect(table).not.toMatch(/NaN|undefined/);
    expect(gatewayHeadline(results)).toEqual([
      {
        figure:
          'Gateway throughput, batched (1 worker × 2 threads, 2 cores), against a bare decode + infer loop',
        value: '148 frames/s, 0.81× the floor; p99 at half load 42.6 ms (floor 17.2 ms)',
      },
      {
        figure: 'Frames answered at 10x overload (a result, or busy so the edge keeps its own)',
        value: '800 of 800 (678 busy)',
      },
    ]);
  });

  it('says so when the throughput goal is missed and frames went unanswered', () => {
    const lossy = {
      ...results,
      overFloor: 0.62,
      met: { overFloor: false, p99Gap: false },
      overload: { ...results.overload, busy: 600 },
    };
    expect(gatewayTable(lossy)).toContain('| **0.62** (148 / 182 frames/s) | missed by 0.18 |');
    expect(gatewayTable(lossy)).toContain('800 frames were sent and 78 were never answered');
    const stalled = gatewayTable({
      ...results,
      p99HalfLoadMs: 71.9,
      p99FloorMs: 150.8,
      met: { overFloor: true, p99Gap: true },
    });
    expect(stalled).toContain(
      "| **-78.9 ms** (71.9 − 150.8 ms at 74 frames/s) | met, but the floor's own p99 is the larger: the machine's stalls, not the code, set both |",
    );
    expect(gatewayHeadline(lossy)[1]!.value).toBe('722 of 800 (600 busy)');
  });
});

describe('bench:gateway --workers', () => {
  const env = { SQUEEZEGATE_DATASET_DIR: '/data', SQUEEZEGATE_MODELS_DIR: '/models' };
  it('reads a list of worker counts and leaves threads to the cores unless given', async () => {
    const c = await gatewayBenchConfigFromCli(['--workers', '1,2', '--batches', '1, 8'], env);
    expect(c.kind === 'run' && c.config).toMatchObject({ workers: [1, 2], batches: [1, 8] });
    expect(c.kind === 'run' && c.config.threads).toBeUndefined();
    const d = await gatewayBenchConfigFromCli([], env);
    expect(d.kind === 'run' && d.config).toMatchObject({ workers: [1], batches: [1, 4, 8, 16] });
  });

  it('refuses a list with junk, zero or a count twice', async () => {
    for (const bad of ['1,x', '0', '2,2', '1,,2']) {
      const c = await gatewayBenchConfigFromCli(['--workers', bad], env);
      expect(c.kind).toBe('exit');
      if (c.kind === 'exit') expect(c.stderr).toContain('  - workers');
    }
  });
});
