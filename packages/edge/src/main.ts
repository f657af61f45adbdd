#!/usr/bin/env node
// squeezegate-edge: the agent on a camera, and its calibrate and audit sub-commands.
// The only edge module that touches `process`.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { ModelLoadError, maskSecrets } from '@squeezegate/shared';
import cliProgress from 'cli-progress';
import { pino } from 'pino';
import type { DetectRecord } from './agent/detect-record.ts';
import { summarizeDetections } from './agent/detect-summary.ts';
import type { FrameRecord } from './agent/frame-record.ts';
import { summarize } from './agent/summary.ts';
import { cameraConfigs, isLive } from './cameras/camera-set.ts';
import { auditCommand } from './cli/audit.ts';
import { CALIBRATE_HELP, formatCalibration, needsSignals, parseCalibrateArgs } from './cli/calibrate.ts';
import { EDGE_HELP, edgeConfigFromCli } from './cli/edge-config.ts';
import { CalibrationError, calibrate } from './evaluation/calibrate.ts';
import { predictDataset } from './evaluation/predict-dataset.ts';
import { predictDatasetWithSignals } from './evaluation/predict-signals.ts';
import { withFusion } from './evaluation/predictions.ts';
import { PrivacyLedgerError } from './privacy/privacy-guard.ts';
import { createDetectRuntime, createEdgeRuntime } from './runtime.ts';
import { EventSinkError } from './sinks/jsonl-sink.ts';
import { SourceError } from './source/source-error.ts';

const EXIT = { OK: 0, FAILED: 1, CONFIG: 2, MODELS: 3, SOURCE: 4, UNREACHABLE: 5, LEDGER: 6 } as const;

function configError(command: string, issues: readonly string[]): never {
  process.stderr.write(
    `${command}: invalid configuration\n${issues.map((i) => `  - ${i}`).join('\n')}\n\nSee ${command} --help.\n`,
  );
  process.exit(EXIT.CONFIG);
}

function knownFailure(err: unknown): number | null {
  if (err instanceof ModelLoadError) return EXIT.MODELS;
  if (err instanceof SourceError) return EXIT.SOURCE;
  if (err instanceof EventSinkError) return EXIT.LEDGER;
  if (err instanceof CalibrationError) return EXIT.UNREACHABLE;
  if (err instanceof PrivacyLedgerError) return EXIT.LEDGER;
  return null;
}

async function runCalibrate(argv: string[]): Promise<number> {
  const parsed = await parseCalibrateArgs(argv, process.env);
  if (parsed.ok === 'help') {
    process.stdout.write(CALIBRATE_HELP);
    return EXIT.OK;
  }
  if (!parsed.ok) configError('squeezegate-edge calibrate', parsed.issues);
  const { cli } = parsed;
  const bar = new cliProgress.SingleBar(
    { format: ' {phase} {bar} {value}/{total}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  try {
    const predict = needsSignals(cli.options.scorer) ? predictDatasetWithSignals : predictDataset;
    const set = await predict({
      dir: cli.dataset,
      modelsDir: cli.modelsDir,
      edgeModel: cli.edgeModel,
      variants: cli.options.variants,
      privacy: cli.privacy,
      cacheDir: cli.cacheDir,
      limit: cli.limit,
      onProgress: (done, total) => {
        if (done === 1) bar.start(total, 0, { phase: 'inference' });
        bar.update(done);
      },
    });
    bar.stop();
    for (const s of set.skipped) process.stderr.write(`skipped ${s.name}: ${s.error}\n`);
    const report = calibrate({
      ...cli.options,
      predictions: withFusion(set.predictions, cli.fusion.edgeWeight),
      onProgress: (done, total) => {
        if (done === 1) bar.start(total, 0, { phase: 'splits   ' });
        bar.update(done);
      },
    });
    bar.stop();
    process.stderr.write(
      `\nsqueezegate calibration (${set.edgeModel} → ${set.cloudModel})\n${formatCalibration(report)}`,
    );
    // The privacy the promise was measured with is pinned with it: what leaves, leaves so.
    const { faces, faceModel, faceThreshold, facePadding, masks } = cli.privacy;
    const pinned = {
      ...report.fragment,
      privacy: { faces, faceModel, faceThreshold, facePadding, masks },
      fusion: cli.fusion,
    };
    const fragment = `${JSON.stringify(pinned, null, 2)}\n`;
    if (cli.out) await writeFile(cli.out, fragment);
    else process.stdout.write(fragment);
    if (cli.json) await writeFile(cli.json, `${JSON.stringify(report, null, 2)}\n`);
    return EXIT.OK;
  } catch (err) {
    bar.stop();
    const code = knownFailure(err);
    process.stderr.write(`squeezegate-edge calibrate: ${(err as Error).message}\n`);
    return code ?? EXIT.FAILED;
  }
}

async function runAgent(argv: string[]): Promise<number> {
  const parsed = await edgeConfigFromCli(argv, process.env);
  if (parsed.ok === 'help') {
    process.stdout.write(EDGE_HELP);
    return EXIT.OK;
  }
  if (!parsed.ok) configError('squeezegate-edge', parsed.issues);
  const config = parsed.config;
  if (parsed.printConfig) {
    process.stdout.write(`${JSON.stringify(maskSecrets(config), null, 2)}\n`);
    return EXIT.OK;
  }
  const logger = pino({ level: config.logLevel, redact: ['token', '*.token'] }, pino.destination(2));
  const out = config.output === '-' ? process.stdout : createWriteStream(config.output);
  // A finite run (folders, files played once) keeps its records for the closing summary; a camera
  // that runs for months must not, so its summary is its counts.
  const finite = cameraConfigs(config).every((c) => !isLive(c.source));
  const records: FrameRecord[] = [];
  const detections: DetectRecord[] = [];
  const write = (record: FrameRecord | DetectRecord) => out.write(`${JSON.stringify(record)}\n`);
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'stopping capture; finishing frames in flight');
      controller.abort();
    });
  }
  let code: number = EXIT.OK;
  try {
    await using runtime =
      config.task === 'detect'
        ? await createDetectRuntime({
            config,
            logger,
            onRecord: (record) => {
              if (finite) detections.push(record);
              write(record);
            },
          })
        : await createEdgeRuntime({
            config,
            logger,
            onRecord: (record) => {
              if (finite) records.push(record);
              write(record);
            },
          });
    if (runtime.link?.state !== 'open') {
      logger.warn(
        { reason: runtime.link?.lastError },
        'gateway unavailable: every frame keeps its local answer',
      );
    }
    await runtime.run({ signal: controller.signal });
    const summary = !finite
      ? null
      : config.task === 'detect'
        ? summarizeDetections(detections)
        : summarize(records);
    logger.info(
      {
        summary,
        cameras: runtime.cameraStats(),
        link: runtime.link?.stats(),
        privacyLedger: runtime.privacy.recorded,
      },
      'run finished',
    );
  } catch (err) {
    code = knownFailure(err) ?? EXIT.FAILED;
    if (code === EXIT.FAILED) logger.fatal({ err }, 'agent failed');
    else logger.fatal({ code: (err as { code?: string }).code }, (err as Error).message);
  }
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
  logger.flush();
  return code;
}

const [first, ...rest] = process.argv.slice(2);
process.exitCode =
  first === 'calibrate'
    ? await runCalibrate(rest)
    : first === 'audit'
      ? await auditCommand(rest, { env: process.env, stdout: process.stdout, stderr: process.stderr })
      : await runAgent(process.argv.slice(2));
