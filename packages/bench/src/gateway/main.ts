#!/usr/bin/env node
// `npm run bench:gateway`: the gateway under load from simulated devices (their own process)
// against its floor, bare loops that decode, preprocess and infer the same payloads with the same
// workers and threads; the model's throughput per batch size; scaling with workers. See
// GATEWAY_BENCH_HELP and docs/benchmarks.md.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeJpeg, getModelSpec, resolveModel, toModelView, toTensorData } from '@squeezegate/shared';
import { pino } from 'pino';
import { describeMachine, machineInfo } from '../machine.ts';
import { publish } from '../publish.ts';
import { bareLoop } from './bare-loop.ts';
import { gatewayBenchConfigFromCli } from './config.ts';
import { type FloorResult, runFloor } from './floor.ts';
import { combineRuns, type LoadResult, runLoad } from './load.ts';
import {
  type BatchPoint,
  batchThatPays,
  floorKeys,
  GATEWAY_GOALS,
  type GatewayBenchResults,
  gatewayHeadline,
  gatewayTable,
  type ScalePoint,
} from './report.ts';
import { latencySummary, median, threadsFor } from './stats.ts';

const cli = await gatewayBenchConfigFromCli(process.argv.slice(2), process.env);
if (cli.kind === 'exit') {
  process.stdout.write(cli.stdout);
  process.stderr.write(cli.stderr);
  process.exit(cli.code);
}
const config = cli.config;
const { dataset, modelsDir, devices, frames, window, maxBatch, maxQueueDelayMs, overload } = config;
const logger = pino({ level: 'warn' }, pino.destination(2));
const machine = machineInfo();
const loadAtStart = os.loadavg()[0]!;
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`machine: ${describeMachine(machine)}`);

// What edges send: the model-sized crop of real images, JPEG quality 85.
const edge = getModelSpec('squeezenet1.1')!;
const cloud = getModelSpec('mobilenetv2-12-int8')!;
const names = (await readdir(dataset))
  .filter((n) => /\.(jpe?g|png|webp)$/i.test(n))
  .sort()
  .slice(0, 64);
if (names.length === 0) {
  process.stderr.write(`bench:gateway: no images in ${dataset}\n`);
  process.exit(2);
}
const payloads: Buffer[] = [];
const tensors: Float32Array[] = [];
for (const name of names) {
  const view = await toModelView(await readFile(path.join(dataset, name)), { preprocess: edge.preprocess });
  const jpeg = await encodeJpeg(view, 85);
  payloads.push(jpeg);
  const cloudView = await toModelView(jpeg, { preprocess: cloud.preprocess, view: 'crop' });
  tensors.push(toTensorData(cloudView.pixels, cloud.preprocess));
}
const resolved = await resolveModel(cloud.id, modelsDir);
const model = { path: resolved.path, inputName: cloud.input.name, preprocess: cloud.preprocess };

const framesPerDevice = Math.ceil(frames / devices);
const total = devices * framesPerDevice;
const base = { modelsDir, devices, framesPerDevice, payloads, logger };
const gatewayAt = (workers: number, threads: number) => ({
  workers,
  threads,
  maxQueueDelayMs,
  maxQueue: 256,
});
const show = (r: LoadResult) =>
  log(
    `${r.label.padEnd(12)} ${r.framesPerSec.toFixed(1).padStart(7)} frames/s  p50 ${r.latencyMs.p50.toFixed(1)} ms  p95 ${r.latencyMs.p95.toFixed(1)} ms  p99 ${r.latencyMs.p99.toFixed(1)} ms (queue + run p50 ${r.insideMs.p50.toFixed(1)}, p99 ${r.insideMs.p99.toFixed(1)})  mean batch ${r.meanBatch.toFixed(2)}  CPU ${r.cpuMsPerFrame.toFixed(2)} ms/frame  peak RSS ${r.peakRssMb.toFixed(0)} MB  results ${r.results}/${r.frames}, busy ${r.busy}`,
  );
const showFloor = (label: string, f: FloorResult) =>
  log(
    `${label.padEnd(12)} ${f.framesPerSec.toFixed(1).padStart(7)} frames/s  CPU ${f.cpuMsPerFrame.toFixed(2)} ms/frame`,
  );

// 3. Batching where it pays: the model alone, per batch size, with the first worker count's threads.
const primaryWorkers = config.workers[0]!;
const primaryThreads = config.threads ?? threadsFor(primaryWorkers, machine.cores);
// Five rounds, the order reversed each round, the median kept: the machine's load drifts.
const sweepRuns = new Map<number, { fps: number[]; cpu: number[] }>(
  config.batches.map((b) => [b, { fps: [], cpu: [] }]),
);
for (let round = 0; round < 5; round++) {
  const order = round % 2 === 0 ? config.batches : [...config.batches].reverse();
  for (const batch of order) {
    const bare = await bareLoop({
      modelsDir,
      tensors,
      frames: Math.max(96, 6 * batch),
      batch,
      threads: primaryThreads,
    });
    sweepRuns.get(batch)!.fps.push(bare.framesPerSec);
    sweepRuns.get(batch)!.cpu.push(bare.cpuMsPerImage);
  }
}
const batchSweep: BatchPoint[] = config.batches.map((batch) => ({
  batch,
  imagesPerSec: median(sweepRuns.get(batch)!.fps),
  cpuMsPerImage: median(sweepRuns.get(batch)!.cpu),
}));
for (const p of batchSweep)
  log(
    `model alone, batch ${String(p.batch).padStart(2)}: ${p.imagesPerSec.toFixed(1)} images/s, ${p.cpuMsPerImage.toFixed(2)} CPU ms/image (median of 5)`,
  );

// Warm-up: the first gateway pays for worker start-up and caches; it is not reported.
await runLoad({
  ...base,
  label: 'warm-up',
  framesPerDevice: 16,
  mode: { kind: 'closed', window },
  gateway: { ...gatewayAt(primaryWorkers, primaryThreads), maxBatch },
});

// 2 and 4. The gateway flat out against the floor, per worker count; the floor before and after.
const runs: LoadResult[] = [];
const scaling: ScalePoint[] = [];
let primary: { batched: LoadResult; floors: FloorResult[] } | undefined;
for (const workers of config.workers) {
  const threads = config.threads ?? threadsFor(workers, machine.cores);
  const floor = () => runFloor({ model, payloads, frames: total, workers, threads, batch: maxBatch });
  const floorA = await floor();
  showFloor(`floor ${workers}×${threads}`, floorA);
  const batched = await runLoad({
    ...base,
    label: workers === primaryWorkers ? 'batched' : `batched, ${workers} workers`,
    mode: { kind: 'closed', window },
    gateway: { ...gatewayAt(workers, threads), maxBatch },
  });
  show(batched);
  const floorB = await floor();
  showFloor(`floor ${workers}×${threads}`, floorB);
  const floorFps = (floorA.framesPerSec + floorB.framesPerSec) / 2;
  scaling.push({
    workers,
    threads,
    framesPerSec: batched.framesPerSec,
    floorFps,
    overFloor: batched.framesPerSec / floorFps,
    cpuMsPerFrame: batched.cpuMsPerFrame,
    floorCpuMsPerFrame: (floorA.cpuMsPerFrame + floorB.cpuMsPerFrame) / 2,
  });
  runs.push(batched);
  if (workers === primaryWorkers) primary = { batched, floors: [floorA, floorB] };
}
const { batched, floors } = primary!;

const unbatched = await runLoad({
  ...base,
  label: 'unbatched',
  mode: { kind: 'closed', window },
  gateway: { ...gatewayAt(primaryWorkers, primaryThreads), maxBatch: 1 },
});
show(unbatched);
runs.push(unbatched);

// Half load: frames at half the measured capacity, the devices' schedules staggered; the floor
// gets the same frames at the same pace, one at a time. In rounds, gateway and floor alternating,
// their latencies pooled: a stall of the shared machine then falls on both alike.
const halfLoadFps = batched.framesPerSec / 2;
const paced = { kind: 'paced' as const, intervalMs: (devices * 1000) / halfLoadFps };
const ROUNDS = 4;
const roundFrames = Math.max(1, Math.ceil(framesPerDevice / ROUNDS));
const halves: LoadResult[] = [];
const halvesNoDelay: LoadResult[] = [];
const floorLatencies: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const at = { ...base, framesPerDevice: roundFrames, mode: paced };
  halves.push(
    await runLoad({
      ...at,
      label: 'half load',
      gateway: { ...gatewayAt(primaryWorkers, primaryThreads), maxBatch },
    }),
  );
  // The same pace with no queue delay: what the wait for a fuller batch costs at this load.
  halvesNoDelay.push(
    await runLoad({
      ...at,
      label: 'half load, delay 0',
      gateway: { ...gatewayAt(primaryWorkers, primaryThreads), maxBatch, maxQueueDelayMs: 0 },
    }),
  );
  const f = await runFloor({
    model,
    payloads,
    frames: roundFrames * devices,
    workers: primaryWorkers,
    threads: primaryThreads,
    batch: 1,
    intervalMs: 1000 / halfLoadFps,
  });
  floorLatencies.push(...f.latencies);
}
const half = combineRuns('half load', halves);
const halfNoDelay = combineRuns('half load, delay 0', halvesNoDelay);
const floorHalf = latencySummary(floorLatencies);
show(half);
show(halfNoDelay);
log(
  `floor, half   p50 ${floorHalf.p50.toFixed(1)} ms  p99 ${floorHalf.p99.toFixed(1)} ms (${floorLatencies.length} frames)`,
);
runs.push(half, halfNoDelay);

const over = await runLoad({
  ...base,
  label: 'overload',
  mode: { kind: 'closed', window: window * overload },
  gateway: { ...gatewayAt(primaryWorkers, primaryThreads), maxBatch, maxQueue: 4 * maxBatch },
});
show(over);
runs.push(over);

const keys = floorKeys({
  gatewayFps: batched.framesPerSec,
  floorFps: floors.map((f) => f.framesPerSec),
  p99HalfLoadMs: half.latencyMs.p99,
  p99FloorMs: floorHalf.p99,
});
const results: GatewayBenchResults = {
  framesPerSec: batched.framesPerSec,
  floorFps: keys.floorFps,
  overFloor: keys.overFloor,
  halfLoadFps,
  p99HalfLoadMs: half.latencyMs.p99,
  p99FloorMs: floorHalf.p99,
  p50HalfLoadMs: half.latencyMs.p50,
  p50FloorMs: floorHalf.p50,
  p99HalfLoadNoDelayMs: halfNoDelay.latencyMs.p99,
  cpuMsPerFrame: batched.cpuMsPerFrame,
  floorCpuMsPerFrame: (floors[0]!.cpuMsPerFrame + floors[1]!.cpuMsPerFrame) / 2,
  cpuOverFloor: (floors[0]!.cpuMsPerFrame + floors[1]!.cpuMsPerFrame) / 2 / batched.cpuMsPerFrame,
  batchedOverUnbatched: batched.framesPerSec / unbatched.framesPerSec,
  batchedCpuSaving: unbatched.cpuMsPerFrame / batched.cpuMsPerFrame,
  p99Ms: batched.latencyMs.p99,
  peakRssMb: batched.peakRssMb,
  goals: GATEWAY_GOALS,
  met: keys.met,
  batchSweep,
  batchThatPays: batchThatPays(batchSweep),
  scaling,
  overload: {
    sent: over.frames,
    results: over.results,
    busy: over.busy,
    errors: over.errors,
    peakRssMb: over.peakRssMb,
  },
  machine,
  loadAverage: { start: loadAtStart, end: os.loadavg()[0]! },
  command: `npm run bench:gateway -- ${process.argv.slice(2).join(' ')}`.trim(),
  settings: {
    devices,
    frames: total,
    window,
    workers: primaryWorkers,
    threads: primaryThreads,
    maxBatch,
    maxQueueDelayMs,
    overload,
  },
  runs,
};
log(
  `\ngateway / floor ${results.overFloor.toFixed(2)} (goal >= 0.8: ${keys.met.overFloor ? 'met' : 'missed'}); p99 at half load ${results.p99HalfLoadMs.toFixed(1)} ms - floor ${results.p99FloorMs.toFixed(1)} ms = ${keys.p99GapMs.toFixed(1)} ms (goal <= 5: ${keys.met.p99Gap ? 'met' : 'missed'}); batched / unbatched ${results.batchedOverUnbatched.toFixed(2)}x; batch that pays ${results.batchThatPays}`,
);
const report = `${JSON.stringify(results, null, 2)}\n`;
const table = gatewayTable(results);
if (config.json) await writeFile(config.json, report);
if (config.out) {
  await mkdir(config.out, { recursive: true });
  await writeFile(path.join(config.out, 'results.json'), report);
  await writeFile(path.join(config.out, 'table.md'), table);
}
await publish({
  bench: 'gateway',
  section: table,
  headline: gatewayHeadline(results),
  date: machine.date.slice(0, 10),
  doc: config.doc,
  readme: config.readme,
  fallbackLink: config.out && path.join(config.out, 'table.md'),
});
process.stdout.write(
  `${JSON.stringify({ ...results, machine: undefined, settings: undefined, runs: undefined })}\n`,
);
