#!/usr/bin/env node
// `npm start`: a gateway and N edge agents on loopback over a directory of images.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SourceError } from '@squeezegate/edge';
import {
  CONFIDENCE_MEASURES,
  type ConfidenceMeasure,
  ModelLoadError,
  resolveModelsDir,
} from '@squeezegate/shared';
import cliProgress from 'cli-progress';
import { pino } from 'pino';
import { formatSummary } from './format.ts';
import { runDemo } from './run-demo.ts';

const HELP = `Usage: npm start -- [options]

Starts a squeezegate gateway and edge agents on loopback; the agents replay a directory of
images as camera frames, classify each with SqueezeNet and offload the unsure ones.

Options (environment variable in brackets):
  --dataset <dir>      images to replay [SQUEEZEGATE_DATASET_DIR]; labels from <dir>/manifest.csv
  --models-dir <dir>   model files [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --edges <n>          number of edge agents (default 2)
  --limit <n>          replay only the first n frames
  --measure <m>        maxProb | margin | entropy (default maxProb)
  --threshold <t>      offload when confidence < t (default 0.5)
  --json <file>        also write the summary as JSON
  --records <file>     write every frame's result as JSON lines
  --log-level <level>  (default warn)
  -h, --help

Examples:
  SQUEEZEGATE_MODELS_DIR=../shared/models npm start -- --dataset ../shared/datasets/imagenet-sample
  npm start -- --limit 100 --edges 4 --json out/summary.json

Exit codes: 0 done, 1 failure, 2 bad options or no dataset, 3 model files missing, 4 dataset unreadable.
`;

const NO_DATASET = `No dataset given. Point the demo at a folder of images:

  npm start -- --dataset <dir>        or   export SQUEEZEGATE_DATASET_DIR=<dir>

The labelled sample used in the README is 1000 ImageNet photos, one per class
(https://github.com/EliSchwartz/imagenet-sample-images); in this project's checkout it sits in
../shared/datasets/imagenet-sample. Any folder of .jpg/.png/.webp images works; with a
manifest.csv (columns file,class_index) the summary includes accuracy.
`;

const fail = (code: number, message: string): never => {
  process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  process.exit(code);
};

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      dataset: { type: 'string' },
      'models-dir': { type: 'string' },
      edges: { type: 'string' },
      limit: { type: 'string' },
      measure: { type: 'string' },
      threshold: { type: 'string' },
      json: { type: 'string' },
      records: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail(2, `${(err as Error).message}\n\n${HELP}`);
  throw err;
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const s = (k: string) => values[k] as string | undefined;
const datasetDir = s('dataset') ?? process.env.SQUEEZEGATE_DATASET_DIR;
if (!datasetDir) fail(2, NO_DATASET);
const int = (name: string, fallback?: number) => {
  const raw = s(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) fail(2, `--${name} must be a positive integer, got "${raw}"`);
  return n;
};
const edges = int('edges', 2)!;
const limit = int('limit');
const measure = (s('measure') ?? 'maxProb') as ConfidenceMeasure;
if (!CONFIDENCE_MEASURES.includes(measure))
  fail(2, `--measure must be one of ${CONFIDENCE_MEASURES.join(', ')}`);
const threshold = Number(s('threshold') ?? 0.5);
if (!(threshold >= 0 && threshold <= 1)) fail(2, '--threshold must be between 0 and 1');

const logger = pino({ level: s('log-level') ?? 'warn' }, pino.destination(2));
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

const bar = new cliProgress.SingleBar(
  { format: ' {phase} {bar} {value}/{total}', stream: process.stderr, hideCursor: true },
  cliProgress.Presets.shades_classic,
);
try {
  const result = await runDemo({
    datasetDir: datasetDir!,
    modelsDir: resolveModelsDir({ configured: s('models-dir') ?? process.env.SQUEEZEGATE_MODELS_DIR }),
    edges,
    limit,
    measure,
    threshold,
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
  if (s('records')) {
    await writeFile(
      s('records')!,
      result.records
        .map((r) => JSON.stringify(r))
        .join('\n')
        .concat('\n'),
    );
  }
  if (s('json')) await writeFile(s('json')!, `${JSON.stringify(result.summary, null, 2)}\n`);
  process.stdout.write(`\nsqueezegate cascade\n${formatSummary(result.summary)}`);
} catch (err) {
  bar.stop();
  if (err instanceof ModelLoadError) fail(3, `squeezegate: ${err.message}`);
  if (err instanceof SourceError) fail(4, `squeezegate: ${err.message}`);
  logger.fatal({ err }, 'demo failed');
  fail(1, `squeezegate: ${(err as Error).message}`);
}
