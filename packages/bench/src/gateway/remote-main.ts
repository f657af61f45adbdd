#!/usr/bin/env node
// The remote cloud tier's wire, JSON against binary tensor data, through the remote backend against
// a second real gateway (remote-wire.ts). Run:
//   npm run bench:gateway -- --wire --json <file>
// It needs `npm run build` first (gateway B runs packages/gateway/dist/main.js).
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { definedOnly, getModelSpec, numberOrUndefined, toModelView, toTensorData } from '@squeezegate/shared';
import { z } from 'zod';
import { COMMON_HELP, datasetAndModels, readBenchCli } from '../cli.ts';
import { describeMachine, machineInfo } from '../machine.ts';
import { measureRemoteWire } from './remote-wire.ts';

const HELP = `Usage: npm run bench:gateway -- --wire [options]

The remote cloud tier's wire: a gateway (B, packages/gateway/dist/main.js) serves the cloud
model over the Open Inference Protocol v2 behind its admin token; the remote backend sends it
FP32 tensors as JSON and as binary tensor data (Triton's extension), in alternating rounds,
through a proxy that counts the bytes. Reports bytes per request and frames/s of each.

Options (environment variable in brackets):
  --dataset <dir>     images to make the tensors from [SQUEEZEGATE_DATASET_DIR]
  --models-dir <dir>  [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --frames <n>        frames per wire per round (default 48)
  --batch <n>         frames per request (default 1)
  --concurrency <n>   requests in flight (default 2)
  --rounds <n>        rounds of JSON then binary (default 2)
  --json <file>       write the figures as JSON there too
  --out <dir>         write results.json there (default docs/bench/gateway-remote)
${COMMON_HELP}
`;

const Count = z.number().int().positive();
const Schema = z
  .object({
    dataset: z.string().min(1, 'no dataset: pass --dataset <dir> or set SQUEEZEGATE_DATASET_DIR'),
    modelsDir: z.string().min(1),
    frames: Count.default(48),
    batch: Count.default(1),
    concurrency: Count.default(2),
    rounds: Count.default(2),
    json: z.string().min(1).optional(),
    out: z.string().min(1).default('docs/bench/gateway-remote'),
  })
  .strict();

const counts = ['frames', 'batch', 'concurrency', 'rounds'] as const;
const cli = await readBenchCli({
  name: 'bench:gateway (remote wire)',
  help: HELP,
  argv: process.argv.slice(2),
  schema: Schema,
  flags: {
    dataset: { type: 'string' },
    'models-dir': { type: 'string' },
    json: { type: 'string' },
    out: { type: 'string' },
    ...Object.fromEntries(counts.map((c) => [c, { type: 'string' as const }])),
  },
  raw: (flag, file) => ({
    ...file,
    ...definedOnly({
      ...datasetAndModels(flag, process.env, file),
      ...Object.fromEntries(counts.map((c) => [c, numberOrUndefined(flag(c))])),
      json: flag('json'),
      out: flag('out'),
    }),
  }),
});
if (cli.kind === 'exit') {
  process.stdout.write(cli.stdout);
  process.stderr.write(cli.stderr);
  process.exit(cli.code);
}
const config = cli.config;
const machine = machineInfo();
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`machine: ${describeMachine(machine)}`);

const cloud = getModelSpec('mobilenetv2-12-int8')!;
const names = (await readdir(config.dataset))
  .filter((n) => /\.(jpe?g|png|webp)$/i.test(n))
  .sort()
  .slice(0, 16);
if (names.length === 0) {
  log(`no images in ${config.dataset}`);
  process.exit(2);
}
const tensors: Float32Array[] = [];
for (const name of names) {
  const view = await toModelView(await readFile(path.join(config.dataset, name)), {
    preprocess: cloud.preprocess,
  });
  tensors.push(toTensorData(view.pixels, cloud.preprocess));
}

const measured = await measureRemoteWire({
  gatewayBin: path.resolve(import.meta.dirname, '../../../gateway/dist/main.js'),
  modelsDir: config.modelsDir,
  tensors,
  frames: config.frames,
  batch: config.batch,
  concurrency: config.concurrency,
  rounds: config.rounds,
  log,
});
const results = { bench: 'gateway-remote', machine, ...measured };
for (const r of [measured.json, measured.binary]) {
  log(
    `${r.wire.padEnd(6)} ${r.upBytesPerRequest} B up + ${r.downBytesPerRequest} B down per request, ${r.bytesPerFrame} B per frame, ${r.framesPerSec.toFixed(1)} frames/s, client CPU ${r.clientCpuMsPerFrame.toFixed(1)} ms/frame, gateway B CPU ${r.serverCpuMsPerFrame?.toFixed(1) ?? 'n/a'} ms/frame`,
  );
}
log(
  `binary: ${measured.bytesRatio.toFixed(2)}x fewer bytes per frame, ${measured.speedup.toFixed(2)}x the frames/s of JSON; top-1 agreement ${(measured.top1Agreement * 100).toFixed(0)} %`,
);
const report = `${JSON.stringify(results, null, 2)}\n`;
await mkdir(config.out, { recursive: true });
await writeFile(path.join(config.out, 'results.json'), report);
if (config.json) await writeFile(config.json, report);
process.stdout.write(`${JSON.stringify({ ...results, machine: undefined })}\n`);
