import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createGateway } from '@squeezegate/gateway';
import { encodeFrame, type GatewayConfig, GatewayConfigSchema } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { DeviceJob, FromDevices } from './device-process.ts';
import { latencySummary } from './stats.ts';

export interface LoadResult {
  label: string;
  frames: number;
  results: number;
  busy: number;
  errors: number;
  elapsedMs: number;
  framesPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number };
  /** The part of each result's latency the gateway accounts for: batcher queue + backend run. */
  insideMs: { p50: number; p95: number; p99: number };
  meanBatch: number;
  peakRssMb: number;
  /** The gateway process's CPU (every thread) per answered frame; the devices' process is apart. */
  cpuMsPerFrame: number;
}

export interface LoadOptions {
  label: string;
  modelsDir: string;
  /** Gateway settings under test (batching, workers, queue). */
  gateway: Partial<GatewayConfig>;
  devices: number;
  framesPerDevice: number;
  /** Closed loop (a window of frames in flight per device) or paced (one every interval per device). */
  mode: DeviceJob['mode'];
  /** Encoded payloads (what edges send), reused round-robin. */
  payloads: readonly Buffer[];
  logger: Logger;
}

/** Each run's raw latencies (send to answer, and the batcher's part of each result), kept out of results.json. */
export const samplesOf = new WeakMap<LoadResult, { latencies: number[]; inside: number[] }>();

/** Several runs of the same settings as one: counts and time summed, latencies pooled. */
export function combineRuns(label: string, parts: readonly LoadResult[]): LoadResult {
  const sum = (f: (r: LoadResult) => number) => parts.reduce((s, r) => s + f(r), 0);
  const results = sum((r) => r.results);
  const elapsedMs = sum((r) => r.elapsedMs);
  const latencies = parts.flatMap((r) => samplesOf.get(r)?.latencies ?? []);
  const inside = parts.flatMap((r) => samplesOf.get(r)?.inside ?? []);
  const weighted = (f: (r: LoadResult) => number) =>
    results ? sum((r) => f(r) * r.results) / results : Number.NaN;
  const combined: LoadResult = {
    label,
    frames: sum((r) => r.frames),
    results,
    busy: sum((r) => r.busy),
    errors: sum((r) => r.errors),
    elapsedMs,
    framesPerSec: (results / elapsedMs) * 1000,
    latencyMs: latencySummary(latencies),
    insideMs: latencySummary(inside),
    meanBatch: weighted((r) => r.meanBatch),
    peakRssMb: Math.max(...parts.map((r) => r.peakRssMb)),
    cpuMsPerFrame: weighted((r) => r.cpuMsPerFrame),
  };
  samplesOf.set(combined, { latencies, inside });
  return combined;
}

const DEVICE_PROCESS = new URL('./device-process.ts', import.meta.url);

/** The next message of a forked child, or its exit as an error. */
function nextMessage(child: ChildProcess): Promise<FromDevices> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`device process exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (m: FromDevices) => {
      child.off('exit', onExit);
      if (m.type === 'failed') reject(new Error(`device process: ${m.message}`));
      else resolve(m);
    });
  });
}

/**
 * A gateway in this process on loopback, and `devices` simulated edges in a child process (see
 * device-process.ts), each sending its frames until every one has an answer. Timing starts once
 * every device is connected.
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
  // The parent's flags (the TypeScript loader, the source condition) carry over to the child.
  const child = fork(DEVICE_PROCESS, {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const job: DeviceJob = {
      url: gateway.edgeUrl,
      devices,
      envelopes: devices.map(({ id }, i) =>
        Array.from({ length: options.framesPerDevice }, (_, k) =>
          encodeFrame(
            { type: 'frame', frameId: `${id}:${k}`, seq: k, view: 'crop', mime: 'image/jpeg' },
            options.payloads[(i * options.framesPerDevice + k) % options.payloads.length]!,
          ),
        ),
      ),
      mode: options.mode,
    };
    const ready = nextMessage(child);
    child.send(job);
    await ready;
    const before = gateway.batching();
    const cpuBefore = process.cpuUsage();
    const done = nextMessage(child);
    child.send({ type: 'go' });
    const report = await done;
    if (report.type !== 'done') throw new Error(`device process said ${report.type}`);
    const cpu = process.cpuUsage(cpuBefore);
    const after = gateway.batching();
    const results = report.latencies.length - report.busy - report.errors;
    const batches = after.batches - before.batches;
    const result: LoadResult = {
      label: options.label,
      frames: report.sent,
      results,
      busy: report.busy,
      errors: report.errors,
      elapsedMs: report.elapsedMs,
      framesPerSec: (results / report.elapsedMs) * 1000,
      latencyMs: latencySummary(report.latencies),
      insideMs: latencySummary(report.inside),
      meanBatch: batches ? (after.items - before.items) / batches : 0,
      peakRssMb: peakRss / 2 ** 20,
      cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / Math.max(1, results),
    };
    samplesOf.set(result, { latencies: report.latencies, inside: report.inside });
    return result;
  } finally {
    clearInterval(sampler);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
