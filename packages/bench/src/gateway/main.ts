#!/usr/bin/env node
// `npm run bench:gateway`: the gateway under load from simulated devices, against itself with
// batching off and against a bare onnxruntime loop, then at 10x overload.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeJpeg, getModelSpec, toModelView, toTensorData } from '@squeezegate/shared';
import { pino } from 'pino';
import { describeMachine, machineInfo } from '../machine.ts';
import { publish } from '../publish.ts';
import { bareLoop } from './bare-loop.ts';
import { gatewayBenchConfigFromCli } from './config.ts';
import { type LoadResult, runLoad } from './load.ts';
import { type GatewayBenchResults, gatewayHeadline, gatewayTable } from './report.ts';

const cli = await gatewayBenchConfigFromCli(process.argv.slice(2), process.env);
if (cli.kind === 'exit') {
  process.stdout.write(cli.stdout);
  process.stderr.write(cli.stderr);
  process.exit(cli.code);
}
const { dataset, modelsDir, devices, frames, window, workers, threads, maxBatch, maxQueueDelayMs, overload } =
  cli.config;
const logger = pino({ level: 'warn' }, pino.destination(2));
const machine = machineInfo();
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

const framesPerDevice = Math.ceil(frames / devices);
const base = { modelsDir, devices, framesPerDevice, payloads, logger };
const gatewayBase = { workers, threads, maxQueueDelayMs, maxQueue: 256 };
const runs: LoadResult[] = [];
const show = (r: LoadResult) =>
  log(
    `${r.label.padEnd(10)} ${r.framesPerSec.toFixed(1).padStart(7)} frames/s  p50 ${r.latencyMs.p50.toFixed(1)} ms  p95 ${r.latencyMs.p95.toFixed(1)} ms  p99 ${r.latencyMs.p99.toFixed(1)} ms  mean batch ${r.meanBatch.toFixed(2)}  peak RSS ${r.peakRssMb.toFixed(0)} MB  results ${r.results}/${r.frames}, busy ${r.busy}`,
  );

// Warm-up: the first run pays for worker start-up and caches; it is not reported.
await runLoad({
  ...base,
  label: 'warm-up',
  framesPerDevice: 16,
  window,
  gateway: { ...gatewayBase, maxBatch },
});
const batched = await runLoad({ ...base, label: 'batched', window, gateway: { ...gatewayBase, maxBatch } });
show(batched);
runs.push(batched);
const unbatched = await runLoad({
  ...base,
  label: 'unbatched',
  window,
  gateway: { ...gatewayBase, maxBatch: 1 },
});
show(unbatched);
runs.push(unbatched);
const bare = await bareLoop({
  modelsDir,
  tensors,
  frames: devices * framesPerDevice,
  batch: maxBatch,
  threads: workers * threads,
});
log(
  `bare loop  ${bare.framesPerSec.toFixed(1).padStart(7)} frames/s  (onnxruntime alone, batch ${maxBatch}, ${workers * threads} threads)`,
);
const over = await runLoad({
  ...base,
  label: 'overload',
  window: window * overload,
  gateway: { ...gatewayBase, maxBatch, maxQueue: 4 * maxBatch },
});
show(over);
runs.push(over);

const settings = {
  devices,
  frames: devices * framesPerDevice,
  window,
  workers,
  threads,
  maxBatch,
  maxQueueDelayMs,
  overload,
};
const results: GatewayBenchResults = {
  framesPerSec: batched.framesPerSec,
  batchedOverUnbatched: batched.framesPerSec / unbatched.framesPerSec,
  overBareLoop: batched.framesPerSec / bare.framesPerSec,
  p99Ms: batched.latencyMs.p99,
  peakRssMb: batched.peakRssMb,
  overload: {
    sent: over.frames,
    results: over.results,
    busy: over.busy,
    errors: over.errors,
    peakRssMb: over.peakRssMb,
  },
  machine,
  command: `npm run bench:gateway -- ${process.argv.slice(2).join(' ')}`.trim(),
  settings,
  bareLoopFps: bare.framesPerSec,
  runs,
};
log(
  `\nbatched / unbatched ${results.batchedOverUnbatched.toFixed(2)}x, gateway / bare loop ${(results.overBareLoop * 100).toFixed(0)} %; overload: ${over.frames} sent, ${over.results} results + ${over.busy} busy (${over.frames - over.results - over.busy - over.errors} lost), peak RSS ${over.peakRssMb.toFixed(0)} MB`,
);
const report = `${JSON.stringify(results, null, 2)}\n`;
const table = gatewayTable(results);
if (cli.config.json) await writeFile(cli.config.json, report);
if (cli.config.out) {
  await mkdir(cli.config.out, { recursive: true });
  await writeFile(path.join(cli.config.out, 'results.json'), report);
  await writeFile(path.join(cli.config.out, 'table.md'), table);
}
await publish({
  bench: 'gateway',
  section: table,
  headline: gatewayHeadline(results),
  date: machine.date.slice(0, 10),
  doc: cli.config.doc,
  readme: cli.config.readme,
  fallbackLink: cli.config.out && path.join(cli.config.out, 'table.md'),
});
const { framesPerSec, batchedOverUnbatched, overBareLoop, p99Ms, peakRssMb } = results;
process.stdout.write(
  `${JSON.stringify({ framesPerSec, batchedOverUnbatched, overBareLoop, p99Ms, peakRssMb, overload: results.overload })}\n`,
);
