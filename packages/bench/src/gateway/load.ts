import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createGateway } from '@squeezegate/gateway';
import { encodeFrame, type GatewayConfig, GatewayConfigSchema } from '@squeezegate/shared';
import type { Logger } from 'pino';

type FromDevice =
  | { type: 'started' }
  | { type: 'failed'; message: string }
  | { type: 'done'; latencies: number[]; busy: number; errors: number; sent: number };

export interface LoadResult {
  label: string;
  frames: number;
  results: number;
  busy: number;
  errors: number;
  elapsedMs: number;
  framesPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number };
  meanBatch: number;
  peakRssMb: number;
}

export interface LoadOptions {
  label: string;
  modelsDir: string;
  /** Gateway settings under test (batching, workers, queue). */
  gateway: Partial<GatewayConfig>;
  devices: number;
  framesPerDevice: number;
  /** Frames each device keeps in flight. */
  window: number;
  /** Encoded payloads (what edges send), reused round-robin. */
  payloads: readonly Buffer[];
  logger: Logger;
}

const DEVICE_WORKER = new URL('./device-worker.mjs', import.meta.url);

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * A gateway on loopback and `devices` simulated edges in worker threads, each sending its frames
 * as fast as the gateway answers (a window of in-flight frames), until every frame has an answer.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const devices = Array.from({ length: options.devices }, (_, i) => ({
    id: `load-${i + 1}`,
    token: randomBytes(12).toString('hex'),
  }));
  const config = GatewayConfigSchema.parse({
    ...options.gateway,
    port: 0,
    modelsDir: options.modelsDir,
    devices,
  });
  await using gateway = await createGateway({ config, logger: options.logger });
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 25);
  const workers = devices.map((d, i) => {
    const frameIds = Array.from({ length: options.framesPerDevice }, (_, k) => `${d.id}:${k}`);
    const envelopes = frameIds.map((frameId, k) => {
      const image = options.payloads[(i * options.framesPerDevice + k) % options.payloads.length]!;
      const env = encodeFrame({ type: 'frame', frameId, seq: k, view: 'crop', mime: 'image/jpeg' }, image);
      return env.buffer.slice(env.byteOffset, env.byteOffset + env.byteLength);
    });
    return new Worker(DEVICE_WORKER, {
      workerData: {
        url: gateway.edgeUrl,
        deviceId: d.id,
        token: d.token,
        envelopes,
        frameIds,
        window: options.window,
      },
      transferList: envelopes as ArrayBuffer[],
    });
  });
  const started = performance.now();
  try {
    const reports = await Promise.all(
      workers.map(
        (w) =>
          new Promise<Extract<FromDevice, { type: 'done' }>>((resolve, reject) => {
            w.on('message', (m: FromDevice) => {
              if (m.type === 'done') resolve(m);
              else if (m.type === 'failed') reject(new Error(m.message));
            });
            w.on('error', reject);
          }),
      ),
    );
    const elapsedMs = performance.now() - started;
    const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const busy = reports.reduce((s, r) => s + r.busy, 0);
    const errors = reports.reduce((s, r) => s + r.errors, 0);
    const frames = reports.reduce((s, r) => s + r.sent, 0);
    const results = latencies.length - busy - errors;
    const batching = gateway.batching();
    return {
      label: options.label,
      frames,
      results,
      busy,
      errors,
      elapsedMs,
      framesPerSec: (results / elapsedMs) * 1000,
      latencyMs: {
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        p99: percentile(latencies, 0.99),
      },
      meanBatch: batching.batches ? batching.items / batching.batches : 0,
      peakRssMb: peakRss / 2 ** 20,
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
