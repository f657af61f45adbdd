import { Worker } from 'node:worker_threads';
import type { Preprocess } from '@squeezegate/shared';
import { latencySummary } from './stats.ts';

export interface FloorOptions {
  model: { path: string; inputName: string; preprocess: Preprocess };
  payloads: readonly Buffer[];
  frames: number;
  /** Loops, each in its own thread with its own session: the gateway's inference workers. */
  workers: number;
  /** onnxruntime intra-op threads per loop. */
  threads: number;
  /** Frames decoded and run together. */
  batch: number;
  /** Paced: frame n arrives at n × interval over all loops (round-robin); 0 runs flat out. */
  intervalMs?: number;
}

export interface FloorResult {
  frames: number;
  elapsedMs: number;
  framesPerSec: number;
  /** Arrival (paced) or start (flat out) to answer, per frame. */
  latencyMs: { p50: number; p95: number; p99: number };
  cpuMsPerFrame: number;
  /** Per frame, in no order (pooled over paced rounds by the caller). */
  latencies: number[];
}

const FLOOR_WORKER = new URL('./floor-worker.mjs', import.meta.url);

type FromFloor = { type: 'ready' } | { type: 'done'; frames: number; elapsedMs: number; latencies: number[] };

/**
 * The floor: what decoding, preprocessing and inference of the same payloads cost with nothing
 * else: no sockets, no protocol, no queue. `workers` bare loops with the same onnxruntime settings
 * as the gateway's workers, frames dealt round-robin.
 */
export async function runFloor(options: FloorOptions): Promise<FloorResult> {
  const { workers, frames, payloads, model } = options;
  const intervalMs = options.intervalMs ?? 0;
  const threads = Array.from({ length: workers }, (_, w) => {
    const mine = [];
    for (let slot = w; slot < frames; slot += workers) mine.push({ slot, payload: slot % payloads.length });
    return new Worker(FLOOR_WORKER, {
      workerData: {
        modelPath: model.path,
        inputName: model.inputName,
        threads: options.threads,
        preprocess: model.preprocess,
        payloads: payloads.map((p) => new Uint8Array(p)),
        frames: mine,
        batch: options.batch,
        intervalMs,
      },
    });
  });
  const next = (w: Worker) =>
    new Promise<FromFloor>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  try {
    await Promise.all(threads.map(next));
    const cpuBefore = process.cpuUsage();
    const t0 = performance.timeOrigin + performance.now() + 20;
    const done = threads.map(next);
    for (const w of threads) w.postMessage({ type: 'go', t0 });
    const reports = (await Promise.all(done)) as Extract<FromFloor, { type: 'done' }>[];
    const cpu = process.cpuUsage(cpuBefore);
    const elapsedMs = Math.max(...reports.map((r) => r.elapsedMs));
    const n = reports.reduce((s, r) => s + r.frames, 0);
    const latencies = reports.flatMap((r) => r.latencies);
    return {
      frames: n,
      elapsedMs,
      framesPerSec: (n / elapsedMs) * 1000,
      latencies,
      latencyMs: latencySummary(latencies),
      cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / n,
    };
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
}
