#!/usr/bin/env node
// `npm start`: a gateway and N edge agents on loopback over a directory of images.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  detectFromFlags,
  POLICY_FLAGS,
  POLICY_HELP,
  payloadFromFlags,
  policyFromFlags,
  privacyFromFlags,
  SourceError,
  TASK_FLAGS,
  TASK_HELP,
} from '@squeezegate/edge';
import {
  DetectSchema,
  ModelLoadError,
  PayloadSchema,
  PolicySchema,
  PrivacySchema,
  parseConfig,
  readConfigFile,
  resolveModelsDir,
} from '@squeezegate/shared';
import cliProgress from 'cli-progress';
import { pino } from 'pino';
import { formatDetectSummary, formatSummary } from './format.ts';
import { runDemo } from './run-demo.ts';
import { runDetectDemo } from './run-detect-demo.ts';

const HELP = `Usage: npm start -- [options]

Starts a squeezegate gateway and edge agents on loopback; the agents replay a directory of
images as camera frames, classify each with SqueezeNet (or find objects, --task detect) and
offload what they are unsure of, faces pixelated first.

Options (environment variable in brackets):
  --dataset <dir>      images to replay [SQUEEZEGATE_DATASET_DIR]; labels from <dir>/manifest.csv
                       (detect: a folder with images/ and labels.json, e.g. detection-sample)
  --models-dir <dir>   model files [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --edges <n>          number of edge agents (default 2)
  --limit <n>          replay only the first n frames
  --config <file>      policy/payload JSON fragment, e.g. from \`squeezegate-edge calibrate\`
  --json <file>        also write the summary as JSON
  --records <file>     write every frame's result as JSON lines
  --log-level <level>  (default warn)
  -h, --help

${POLICY_HELP}
${TASK_HELP}
Examples:
  SQUEEZEGATE_MODELS_DIR=../shared/models npm start -- --dataset ../shared/datasets/imagenet-sample
  npm start -- --limit 100 --edges 4 --json out/summary.json
  npm start -- --policy rate --target 0.3 --payload original
  npm start -- --task detect --dataset ../shared/datasets/detection-sample

Exit codes: 0 done, 1 failure, 2 bad options or no dataset, 3 model files missing, 4 dataset unreadable.
`;

const NO_DATASET = `No dataset given. Point the demo at a folder of images:

  npm start -- --dataset <dir>        or   export SQUEEZEGATE_DATASET_DIR=<dir>

The labelled sample used in the README is 1000 ImageNet photos, one per class
(https://github.com/EliSchwartz/imagenet-sample-images); in this project's checkout it sits in
../shared/datasets/imagenet-sample. Any folder of .jpg/.png/.webp images works; with a
manifest.csv (columns file,class_index) the summary includes accuracy.
`;

function fail(code: number, message: string): never {
  process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  process.exit(code);
}

function parse(): Record<string, string | string[] | boolean | undefined> {
  try {
    return parseArgs({
      options: {
        dataset: { type: 'string' },
        'models-dir': { type: 'string' },
        edges: { type: 'string' },
        limit: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'string' },
        records: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...POLICY_FLAGS,
        ...TASK_FLAGS,
      },
    }).values;
  } catch (err) {
    return fail(2, `${(err as Error).message}\n\n${HELP}`);
  }
}

const values = parse();
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const s = (k: string) => values[k] as string | undefined;
const datasetDir = s('dataset') ?? process.env.SQUEEZEGATE_DATASET_DIR ?? fail(2, NO_DATASET);
const int = (name: string, fallback?: number) => {
  const raw = s(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) fail(2, `--${name} must be a positive integer, got "${raw}"`);
  return n;
};
const edges = int('edges', 2)!;
const limit = int('limit');

let file: Record<string, unknown> = {};
if (s('config')) {
  const read = await readConfigFile(s('config')!);
  file = read.ok ? read.value : fail(2, read.issues.join('\n'));
}
const policy = parseConfig(
  PolicySchema,
  policyFromFlags(values, file.policy as Record<string, unknown> | undefined) ?? { kind: 'threshold' },
);
const payload = parseConfig(
  PayloadSchema,
  payloadFromFlags(values, file.payload as Record<string, unknown> | undefined) ?? {},
);
const detect = parseConfig(
  DetectSchema,
  detectFromFlags(values, file.detect as Record<string, unknown> | undefined) ?? {},
);
const privacy = parseConfig(
  PrivacySchema,
  privacyFromFlags(values, file.privacy as Record<string, unknown> | undefined) ?? {},
);
const task = s('task') ?? 'classify';
if (!policy.ok || !payload.ok || !detect.ok || !privacy.ok || (task !== 'classify' && task !== 'detect')) {
  const issues = [
    ...(policy.ok ? [] : policy.issues.map((i) => `policy.${i}`)),
    ...(payload.ok ? [] : payload.issues.map((i) => `payload.${i}`)),
    ...(detect.ok ? [] : detect.issues.map((i) => `detect.${i}`)),
    ...(privacy.ok ? [] : privacy.issues.map((i) => `privacy.${i}`)),
    ...(task === 'classify' || task === 'detect' ? [] : [`task: classify or detect, got "${task}"`]),
  ];
  fail(2, `invalid options:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
}

const logger = pino({ level: s('log-level') ?? 'warn' }, pino.destination(2));
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

const bar = new cliProgress.SingleBar(
  { format: ' {phase} {bar} {value}/{total}', stream: process.stderr, hideCursor: true },
  cliProgress.Presets.shades_classic,
);
const modelsDir = resolveModelsDir({ configured: s('models-dir') ?? process.env.SQUEEZEGATE_MODELS_DIR });
try {
  if (task === 'detect') {
    const result = await runDetectDemo({
      datasetDir,
      modelsDir,
      edges,
      limit,
      detect: detect.config,
      privacy: privacy.config,
      quality: payload.config.quality,
      logger,
      signal: controller.signal,
      onStart: (frames) => bar.start(frames, 0, { phase: 'detect   ' }),
      onRecord: () => bar.increment(),
    });
    bar.stop();
    const records = s('records');
    if (records) await writeFile(records, result.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const json = s('json');
    if (json) await writeFile(json, `${JSON.stringify(result.summary, null, 2)}\n`);
    process.stdout.write(`\nsqueezegate detect\n${formatDetectSummary(result.summary)}`);
    process.exit(0);
  }
  const result = await runDemo({
    datasetDir,
    modelsDir,
    edges,
    limit,
    policy: policy.config,
    payload: payload.config,
    privacy: privacy.config,
    logger,
    signal: controller.signal,
    onStart: (frames) => bar.start(frames, 0, { phase: 'cascade  ' }),
    onRecord: () => bar.increment(),
    onReferenceProgress: (done, total) => {
      if (done === 1) {
        bar.stop();
        bar.start(total, 0, { phase: 'cloud-ref' });
      }
      bar.update(done);
    },
  });
  bar.stop();
  const records = s('records');
  if (records) await writeFile(records, result.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const json = s('json');
  if (json) await writeFile(json, `${JSON.stringify(result.summary, null, 2)}\n`);
  process.stdout.write(`\nsqueezegate cascade\n${formatSummary(result.summary)}`);
} catch (err) {
  bar.stop();
  if (err instanceof ModelLoadError) fail(3, `squeezegate: ${err.message}`);
  if (err instanceof SourceError) fail(4, `squeezegate: ${err.message}`);
  logger.fatal({ err }, 'demo failed');
  fail(1, `squeezegate: ${(err as Error).message}`);
}
