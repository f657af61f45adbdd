import { type GatewayBenchResults, gatewayHeadline, gatewayTable } from '@squeezegate/bench';
import { describe, expect, it } from 'vitest';

const run = (label: string, framesPerSec: number, results: number, busy: number, meanBatch: number) => ({
  label,
  frames: 800,
  results,
  busy,
  errors: 0,
  elapsedMs: 3000,
  framesPerSec,
  latencyMs: { p50: 55.4, p95: 64.5, p99: 71.5 },
  meanBatch,
  peakRssMb: 470.2,
});

const results: GatewayBenchResults = {
  framesPerSec: 254,
  batchedOverUnbatched: 254 / 213,
  overBareLoop: 254 / 589,
  p99Ms: 71.5,
  peakRssMb: 470.2,
  overload: { sent: 800, results: 122, busy: 678, errors: 0, peakRssMb: 524 },
  machine: {
    cpu: 'Test CPU',
    cores: 2,
    memoryGb: 8,
    platform: 'linux',
    node: 'v20',
    date: '2026-01-02T00:00:00Z',
  },
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
  bareLoopFps: 589,
  runs: [
    run('batched', 254, 800, 0, 7.77),
    run('unbatched', 213, 800, 0, 1),
    run('overload', 93, 122, 678, 7.63),
  ],
};

describe('gatewayTable and gatewayHeadline', () => {
  it('write every figure from the results', () => {
    const table = gatewayTable(results);
    expect(table).toMatch(/^Produced by `npm run bench:gateway -- --dataset d` on Test CPU, 2 cores, 8 GiB/);
    expect(table).toContain('| batched | 254 | 55.4 / 64.5 / 71.5 | 7.77 | 470 | 800 + 0 busy of 800 |');
    expect(table).toContain('| bare onnxruntime loop | 589 | | 8 | | |');
    expect(table).toContain(
      'Batched over unbatched **1.19x**; the gateway reaches **43 %** of the bare loop',
    );
    expect(table).toContain(
      '800 frames were sent and every one was answered (122 results, 678 busy, 0 errors)',
    );
    expect(table).not.toMatch(/NaN|undefined/);
    expect(gatewayHeadline(results)).toEqual([
      {
        figure: 'Gateway throughput, batched (1 worker × 2 threads, 2 cores)',
        value: '254 frames/s, p99 71.5 ms',
      },
      {
        figure: 'Frames answered at 10x overload (a result, or busy so the edge keeps its own)',
        value: '800 of 800 (678 busy)',
      },
    ]);
  });

  it('says so when frames went unanswered', () => {
    const lossy = { ...results, overload: { ...results.overload, busy: 600 } };
    expect(gatewayTable(lossy)).toContain('800 frames were sent and 78 were never answered');
    expect(gatewayHeadline(lossy)[1]!.value).toBe('722 of 800 (600 busy)');
  });
});
