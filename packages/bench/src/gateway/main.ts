#!/usr/bin/env node
// `npm run bench:gateway`: the gateway under load from simulated devices, against itself with
// batching off and against a bare onnxruntime loop, then at 10x overload.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeJpeg, getModelSpec, resolveModelsDir, toModelView, toTensorData } from '@squeezegate/shared';
import { pino } from 'pino';
import { spliceReadme } from '../cascade/report.ts';
import { describeMachine, machineInfo } from '../machine.ts';
import { bareLoop } from './bare-loop.ts';
import { type LoadResult, runLoad } from './load.ts';

const HELP = `Usage: npm run bench:gateway -- [options]

N simulated devices (worker threads) on loopback send JPEG crops to a gateway as fast as it
answers, for a fixed number of frames. Reports frames/s, latency, mean batch size and peak RSS,
and, in the same run, the ratio against the same gateway with batching off and against a bare
onnxruntime-node loop over the same preprocessed tensors; then a 10x overload.

Options:
  --dataset <dir>          images to make the payloads from [SQUEEZEGATE_DATASET_DIR]
  --models-dir <dir>       [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --devices <n>            simulated devices (default 4)
  --frames <n>             frames per run, over all devices (default 800)
  --window <n>             frames each device keeps in flight (default 4)
  --workers <n>            gateway inference workers (default 1)
  --threads <n>            onnxruntime threads per worker (default 2)
  --max-batch <n>          (default 8)
  --max-queue-delay-ms <ms> (default 2)
  --overload <x>           in-flight multiplier for the overload run (default 10)
  --json <file>            write the figures as JSON
  --out <dir>              write results.json and table.md there
  --readme <file>          also refresh the gateway bench section of this README (needs --out)
  -h, --help

Example:
  npm run bench:gateway -- --dataset ../shared/datasets/imagenet-sample --json gateway.json
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        dataset: { type: 'string' },
        'models-dir': { type: 'string' },
        devices: { type: 'string' },
        frames: { type: 'string' },
        window: { type: 'string' },
        workers: { type: 'string' },
        threads: { type: 'string' },
        'max-batch': { type: 'string' },
        'max-queue-delay-ms': { type: 'string' },
        overload: { type: 'string' },
        json: { type: 'string' },
        out: { type: 'string' },
        readme: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${HELP}`);
  }
})();
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const int = (name: keyof typeof values, fallback: number) => {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fail(`--${name} must be a positive integer, got "${raw}"`);
};
const dataset =
  values.dataset ??
  process.env.SQUEEZEGATE_DATASET_DIR ??
  fail(`no dataset: pass --dataset <dir>\n\n${HELP}`);
const modelsDir = resolveModelsDir({
  configured: values['models-dir'] ?? process.env.SQUEEZEGATE_MODELS_DIR,
});
const devices = int('devices', 4);
const frames = int('frames', 800);
const window = int('window', 4);
const workers = int('workers', 1);
const threads = int('threads', 2);
const maxBatch = int('max-batch', 8);
const overload = int('overload', 10);
const maxQueueDelayMs = Number(values['max-queue-delay-ms'] ?? 2);
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
if (names.length === 0) fail(`no images in ${dataset}`);
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

const figures = {
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
};
log(
  `\nbatched / unbatched ${figures.batchedOverUnbatched.toFixed(2)}x, gateway / bare loop ${(figures.overBareLoop * 100).toFixed(0)} %; overload: ${over.frames} sent, ${over.results} results + ${over.busy} busy (${over.frames - over.results - over.busy - over.errors} lost), peak RSS ${over.peakRssMb.toFixed(0)} MB`,
);
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
const report = `${JSON.stringify({ ...figures, machine, settings, bareLoopFps: bare.framesPerSec, runs }, null, 2)}\n`;
if (values.json) await writeFile(values.json, report);
if (values.out) {
  await mkdir(values.out, { recursive: true });
  await writeFile(path.join(values.out, 'results.json'), report);
  const command = `npm run bench:gateway -- ${process.argv.slice(2).join(' ')}`.trim();
  const table = gatewayTable({ command, bareFps: bare.framesPerSec, settings });
  await writeFile(path.join(values.out, 'table.md'), table);
  if (values.readme)
    await writeFile(values.readme, spliceReadme(await readFile(values.readme, 'utf8'), table, 'gateway'));
}
process.stdout.write(`${JSON.stringify(figures)}\n`);

function gatewayTable(context: {
  command: string;
  bareFps: number;
  settings: Record<string, number>;
}): string {
  const row = (r: LoadResult) =>
    `| ${r.label} | ${r.framesPerSec.toFixed(0)} | ${r.latencyMs.p50.toFixed(1)} / ${r.latencyMs.p95.toFixed(1)} / ${r.latencyMs.p99.toFixed(1)} | ${r.meanBatch.toFixed(2)} | ${r.peakRssMb.toFixed(0)} | ${r.results} + ${r.busy} busy of ${r.frames} |`;
  const s = context.settings;
  return [
    `Produced by \`${context.command}\` on ${describeMachine(machine)}, ${machine.date.slice(0, 10)}: ${s.devices} devices (worker threads), ${s.frames} frames per run, ${s.window} in flight per device (×${s.overload} for the overload run), gateway with ${s.workers} inference worker(s) × ${s.threads} onnxruntime thread(s), max batch ${s.maxBatch}, max queue delay ${s.maxQueueDelayMs} ms.`,
    '',
    '| run | frames/s | latency p50 / p95 / p99 ms | mean batch | peak RSS MB | answered |',
    '|---|---|---|---|---|---|',
    ...runs.map(row),
    `| bare onnxruntime loop | ${context.bareFps.toFixed(0)} | | ${s.maxBatch} | | |`,
    '',
    `Batched over unbatched **${figures.batchedOverUnbatched.toFixed(2)}x**; the gateway reaches **${(figures.overBareLoop * 100).toFixed(0)} %** of the bare loop; at ${s.overload}x overload ${over.frames} frames were sent and every one was answered (${over.results} results, ${over.busy} busy, ${over.errors} errors), peak RSS ${over.peakRssMb.toFixed(0)} MB.`,
    '',
  ].join('\n');
}
