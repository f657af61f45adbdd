#!/usr/bin/env node
// `npm start`: a gateway and N edge agents on loopback over a directory of images, or one agent on a video.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  classifySource,
  detectFromFlags,
  fusionFromFlags,
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
  FusionSchema,
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
import { formatDetectSummary, formatSummary, formatVideoSummary } from './format.ts';
import { runDemo } from './run-demo.ts';
import { runDetectDemo } from './run-detect-demo.ts';
import { runVideoDemo } from './run-video-demo.ts';

const HELP = `Usage: npm start -- [options]

Starts a squeezegate gateway and edge agents on loopback; the agents replay a directory of
images as camera frames, classify each with SqueezeNet (or find objects, --task detect) and
offload what they are unsure of, faces pixelated first. With a video (--source), one agent
(cam-1) reads it through ffmpeg like a camera, with the scene gate and tracking, and the summary
sets its uplink against streaming the clip.

Options (environment variable in brackets):
  --dataset <dir>      images to replay [SQUEEZEGATE_DATASET_DIR]; labels from <dir>/manifest.csv
                       (detect: a folder with images/ and labels.json, e.g. detection-sample)
  --source <src>       a folder (as --dataset), a video file (.mp4 .mkv .avi .mov), or a camera
                       URL (rtsp://, http://, /dev/videoN: runs until Ctrl-C)
  --fps <n>            video: frames analysed per second (default 5)
  --events <file>      video: track and scene events as JSON lines (Frigate's fields)
  --gate <on|off>      video: skip the model on frames like the last analysed one (default on)
  --track <on|off>     video, --task detect: track objects, send each once (default on)
  --ffmpeg <path>      video: ffmpeg binary [SQUEEZEGATE_FFMPEG] (default: the one npm installs)
  --models-dir <dir>   model files [SQUEEZEGATE_MODELS_DIR] (default ./models)
  --edges <n>          folders: number of edge agents (default 2)
  --limit <n>          folders: replay only the first n frames
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
  npm start -- --dataset faces/ --policy always --payload original --payload-dump /tmp/dump
    (then: squeezegate-edge audit --dump /tmp/dump --source faces/)
  npm start -- --source ../shared/datasets/video-sample/car-detection.mp4 --task detect

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
        source: { type: 'string' },
        fps: { type: 'string' },
        events: { type: 'string' },
        gate: { type: 'string' },
        track: { type: 'string' },
        ffmpeg: { type: 'string' },
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
// --source: a folder is the dataset; anything else (a video file, a camera URL) runs the video demo.
const source = s('source');
const sourceKind =
  source === undefined
    ? null
    : await classifySource(source).catch((err: Error) => fail(4, `squeezegate: ${err.message}`));
const video = sourceKind !== null && sourceKind.kind !== 'directory' ? source! : null;
const datasetDir =
  video !== null
    ? ''
    : ((sourceKind ? source : s('dataset')) ?? process.env.SQUEEZEGATE_DATASET_DIR ?? fail(2, NO_DATASET));
const misplaced = (video ? ['edges', 'limit'] : ['fps', 'events', 'gate', 'track', 'ffmpeg']).filter(
  (k) => values[k] !== undefined,
);
if (misplaced.length > 0)
  fail(2, `${misplaced.map((k) => `--${k}`).join(', ')}: for ${video ? 'folders' : 'video sources'} only`);
const int = (name: string, fallback?: number) => {
  const raw = s(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) fail(2, `--${name} must be a positive integer, got "${raw}"`);
  return n;
};
const edges = int('edges', 2)!;
const limit = int('limit');
const fps = Number(s('fps') ?? 5);
if (!(fps > 0 && fps <= 60)) fail(2, `--fps must be a number in (0, 60], got "${s('fps')}"`);
const onOff = (name: string) => {
  const v = s(name) ?? 'on';
  return v === 'on' ? true : v === 'off' ? false : fail(2, `--${name} must be on or off, got "${v}"`);
};
const gate = onOff('gate');
const track = onOff('track');

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
const fusion = parseConfig(
  FusionSchema,
  fusionFromFlags(values, file.fusion as Record<string, unknown> | undefined) ?? {},
);
const task = s('task') ?? 'classify';
const valid = policy.ok && payload.ok && detect.ok && privacy.ok && fusion.ok;
if (!valid || (task !== 'classify' && task !== 'detect')) {
  const issues = [
    ...(fusion.ok ? [] : fusion.issues.map((i) => `fusion.${i}`)),
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
  if (video !== null) {
    const result = await runVideoDemo({
      source: video,
      task,
      modelsDir,
      fps,
      events: s('events'),
      gate,
      track,
      ffmpeg: s('ffmpeg') ?? process.env.SQUEEZEGATE_FFMPEG,
      policy: policy.config,
      payload: payload.config,
      fusion: fusion.config,
      detect: detect.config,
      privacy: privacy.config,
      logger,
      signal: controller.signal,
      onStart: (frames) => bar.start(frames ?? 0, 0, { phase: `${task} video` }),
      onRecord: () => bar.increment(),
    });
    bar.stop();
    const records = s('records');
    if (records) await writeFile(records, result.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const json = s('json');
    if (json) await writeFile(json, `${JSON.stringify(result.summary, null, 2)}\n`);
    process.stdout.write(`\nsqueezegate video\n${formatVideoSummary(result.summary)}`);
    process.exit(0);
  }
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
    fusion: fusion.config,
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
