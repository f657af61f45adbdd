#!/usr/bin/env node
// `npm run bench:fleet`: issue 13 §5. At least 200 simulated devices in this process against a
// real gateway, with the fleet controller (one offload bar for all, moved to hold the budget)
// and with uniform per-device caps (the `rate` policy at budget / devices each), under the same
// budget, on the same frames at the same instants.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createOnnxClassifier,
  definedOnly,
  readCli,
  resolveModel,
  resolveModelsDir,
} from '@squeezegate/shared';
import { pino } from 'pino';
import { z } from 'zod';
import { describeMachine, machineInfo } from '../machine.ts';
import { publish } from '../publish.ts';
import { prepareFrames, sampleImages } from './frames.ts';
import { type FleetBenchResults, fleetTable } from './report.ts';
import { type ArmResult, runArm } from './run.ts';

const HELP = `Usage: npm run bench:fleet -- [--devices N] [--budget FPS] [--json FILE] [options]

Simulates N devices (default 200) in this process against a real gateway, once with the fleet
controller (--fleet-budget-cloud-fps) and once with uniform per-device caps (the rate policy at
the same total), and reports { devices, budget, achieved, overBudget, cascadeTop1, uniformTop1,
busy }. Devices replay the edge model's cached predictions on the sample set's images, clean and
corrupted (blur, noise, low light), and send the real 224 crop over a real WebSocket.

Options:
  --devices <n>     simulated devices (default 200)
  --fps <n>         frames each device captures per second (default 0.5)
  --budget <fps>    fleet budget in cloud frames/s (default 40)
  --seconds <n>     length of each arm (default 90)
  --warmup <n>      seconds at the start of each arm left out of the figures (default 15)
  --images <n>      images of the sample set per scene (default 120)
  --severity <s>    moderate | severe: how hard the night scenes are (default moderate;
                    see SEVERITIES in packages/bench/src/fleet/frames.ts)
  --json <file>     also write the results here
  --out <dir>       results.json and table.md (default docs/bench/fleet)
  --doc <file>      the docs page whose bench:fleet section is rewritten (default
                    docs/benchmarks.md; --doc none for none)
  --cache-dir <dir> the edge predictions' cache (default .cache/squeezegate)
  --dataset <dir>   the sample set (default SQUEEZEGATE_DATASET_DIR or ../shared/datasets/imagenet-sample)
`;
const root = path.resolve(import.meta.dirname, '../../../..');
const int = (min: number) => z.coerce.number().int().min(min);
const Args = z.object({
  devices: int(1).default(200),
  fps: z.coerce.number().positive().max(30).default(0.5),
  budget: z.coerce.number().positive().default(40),
  seconds: int(10).default(90),
  warmup: int(0).default(15),
  images: int(4).default(120),
  severity: z.enum(['moderate', 'severe']).default('moderate'),
  json: z.string().optional(),
  out: z.string().default(path.join(root, 'docs/bench/fleet')),
  doc: z.string().default(path.join(root, 'docs/benchmarks.md')),
  'cache-dir': z.string().default(path.join(root, '.cache/squeezegate')),
  dataset: z
    .string()
    .default(process.env.SQUEEZEGATE_DATASET_DIR ?? path.resolve(root, '../shared/datasets/imagenet-sample')),
  seed: int(0).default(7),
});
const cli = await readCli(process.argv.slice(2), {
  devices: { type: 'string' },
  fps: { type: 'string' },
  budget: { type: 'string' },
  seconds: { type: 'string' },
  warmup: { type: 'string' },
  images: { type: 'string' },
  severity: { type: 'string' },
  json: { type: 'string' },
  out: { type: 'string' },
  doc: { type: 'string' },
  'cache-dir': { type: 'string' },
  dataset: { type: 'string' },
  seed: { type: 'string' },
});
if (cli.kind === 'help') {
  process.stdout.write(HELP);
  process.exit(0);
}
if (cli.kind === 'invalid') {
  process.stderr.write(`${cli.issues.join('\n')}\n\n${HELP}`);
  process.exit(2);
}
const parsed = Args.safeParse(definedOnly(cli.values));
if (!parsed.success || parsed.data.warmup >= parsed.data.seconds) {
  process.stderr.write(
    `${parsed.success ? '--warmup must be shorter than --seconds' : z.prettifyError(parsed.error)}\n\n${HELP}`,
  );
  process.exit(2);
}
const args = parsed.data;
const log = (line: string) => process.stderr.write(`${line}\n`);
const machine = machineInfo();
log(`machine: ${describeMachine(machine)}`);
const modelsDir = resolveModelsDir({ configured: process.env.SQUEEZEGATE_MODELS_DIR });
const logger = pino({ level: 'warn' }, pino.destination(2));

const edge = await createOnnxClassifier(await resolveModel('squeezenet1.1', modelsDir));
let frames: Awaited<ReturnType<typeof prepareFrames>>;
try {
  const images = await sampleImages(args.dataset, args.images);
  const started = performance.now();
  frames = await prepareFrames({
    images,
    edge,
    cacheDir: args['cache-dir'],
    severity: args.severity,
    onProgress: (done, total) => {
      if (done % 100 === 0 || done === total) log(`frames: ${done}/${total}`);
    },
  });
  log(
    `${frames.length} frames ready in ${((performance.now() - started) / 1000).toFixed(1)} s (cached after the first run)`,
  );
} finally {
  // Devices replay what the edge model said: no ONNX session runs on the device side from here.
  await edge.close();
}

const arms: ArmResult[] = [];
for (const arm of ['cascade', 'uniform'] as const) {
  log(`arm ${arm}: ${args.devices} devices, ${args.seconds} s`);
  const result = await runArm({
    arm,
    frames,
    devices: args.devices,
    fps: args.fps,
    seconds: args.seconds,
    warmupS: args.warmup,
    budgetFps: args.budget,
    modelsDir,
    logger,
    seed: args.seed,
    onSecond: (s, n) => {
      if (s % 10 === 0) log(`  ${arm} t=${s}s: ${n} frames/s to the gateway`);
    },
  });
  log(
    `  ${arm}: achieved ${result.achieved.toFixed(2)} frames/s (budget ${args.budget}), top-1 ${(100 * result.top1).toFixed(1)} %, busy ${result.busy}`,
  );
  arms.push(result);
}
const [cascade, uniform] = arms as [ArmResult, ArmResult];
const command = `npm run bench:fleet -- ${process.argv.slice(2).join(' ')}`.trim();
const results: FleetBenchResults = {
  devices: args.devices,
  budget: args.budget,
  achieved: cascade.achieved,
  overBudget: cascade.overBudget,
  cascadeTop1: cascade.top1,
  uniformTop1: uniform.top1,
  busy: cascade.busy + uniform.busy,
  withinTenPercent: Math.abs(cascade.achieved / args.budget - 1) <= 0.1,
  cascadeBeatsUniform: cascade.top1 > uniform.top1,
  fps: args.fps,
  seconds: args.seconds,
  warmupS: args.warmup,
  images: args.images,
  severity: args.severity,
  machine,
  command,
  arms,
};
const table = fleetTable(results);
const json = `${JSON.stringify(results, null, 2)}\n`;
await mkdir(args.out, { recursive: true });
await writeFile(path.join(args.out, 'results.json'), json);
await writeFile(path.join(args.out, 'table.md'), table);
if (args.json) await writeFile(args.json, json);
if (args.doc !== 'none')
  await publish({
    bench: 'fleet',
    section: table,
    headline: [],
    date: machine.date.slice(0, 10),
    doc: args.doc,
  });
process.stdout.write(
  `${JSON.stringify({
    devices: results.devices,
    budget: results.budget,
    achieved: results.achieved,
    overBudget: results.overBudget,
    cascadeTop1: results.cascadeTop1,
    uniformTop1: results.uniformTop1,
    busy: results.busy,
  })}\n`,
);
