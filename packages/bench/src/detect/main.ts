#!/usr/bin/env node
// `npm run bench:detect`: the edge detectors, tiling, the object-level cascade's uplink bytes and
// what face redaction costs in time and in cloud accuracy, all offline (no gateway).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AUDIT_THRESHOLD,
  createPrivacyGuard,
  type DumpEntry,
  defaultAuditorIds,
  openDirectorySource,
  type PrivacyGuard,
  SourceError,
} from '@squeezegate/edge';
import {
  createOnnxClassifier,
  DEFAULT_DETECTOR_ID,
  DETECTOR_IDS,
  type Detector,
  DetectSchema,
  getModelSpec,
  ModelLoadError,
  openDetector,
  PayloadSchema,
  PrivacySchema,
  resolveModel,
} from '@squeezegate/shared';
import { describeMachine, machineInfo } from '../machine.ts';
import { publish } from '../publish.ts';
import { measureCascade } from './cascade.ts';
import { detectBenchConfigFromCli } from './config.ts';
import { measureDetectors, measureTiling } from './detectors.ts';
import { measureImagenet, measureRedaction, redactionPayloads } from './privacy.ts';
import type { DetectBenchResults } from './results.ts';
import { isFacePhoto, isKitti, loadDetectionSample } from './sample.ts';
import { detectHeadline, detectTable } from './table.ts';

const cli = await detectBenchConfigFromCli(process.argv.slice(2), process.env);
if (cli.kind === 'exit') {
  process.stdout.write(cli.stdout);
  process.stderr.write(cli.stderr);
  process.exit(cli.code);
}
const { dataset, modelsDir, runs, limit, threads } = cli.config;
const imagenetDir = cli.config.imagenet;

/** The redaction goal (issue 15): what privacy may add to a 320 px payload at p95. */
const GOAL = { shortSide: 320, ms: 15 } as const;
/** Detections are collected down to this for AP@0.5 (shared/detection/metrics.ts suggests 0.05). */
const AP_FLOOR = 0.05;
/** A face found after redaction is the same face when it overlaps the one before this much. */
const RESIDUAL_IOU = 0.3;

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const machine = machineInfo();
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`machine: ${describeMachine(machine)}`);

const SWEEP_THRESHOLDS = [0.4, 0.5, 0.7];
const started = performance.now();
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
async function section<T>(n: number, title: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  log(`[${n}/5] ${title}…`);
  const result = await work();
  log(`[${n}/5] done in ${seconds(t0)} s`);
  return result;
}

const detectConfig = DetectSchema.parse({});
const privacyConfig = PrivacySchema.parse({});
// The detect agent sends JPEG at the payload quality; the classify agent its payload codec.
const { quality, codec } = PayloadSchema.parse({});
const edge = getModelSpec('squeezenet1.1')!;
const cloudId = 'mobilenetv2-12-int8';
// The detect agent cuts object crops and empty frames for the cloud classifier's own view.
const cloudView = getModelSpec(cloudId)!.preprocess;
const detectors = new Map<string, Detector>();
const closers: (() => Promise<void>)[] = [];
try {
  const frames = await loadDetectionSample(dataset);
  // An even spread over the set (its files sort by class: the first few hundred are animals).
  const stride = Math.max(
    1,
    Math.floor((await openDirectorySource({ dir: imagenetDir })).frames.length / limit),
  );
  // The source takes its limit before its stride.
  const imagenet = await openDirectorySource({ dir: imagenetDir, limit: limit * stride, stride });
  if (!imagenet.labelled) fail(2, `${imagenetDir} has no manifest.csv with file,class_index`);
  for (const id of DETECTOR_IDS) {
    const detector = await openDetector({ id, modelsDir, threads });
    detectors.set(id, detector);
    closers.push(() => detector.close());
  }
  const all = [...detectors.values()];

  const detectorRows = await section(
    1,
    `detectors: ${all.length} models × ${frames.length} images × ${runs} runs`,
    () =>
      measureDetectors({ detectors: all, frames, runs, apFloor: AP_FLOOR, baseline: DEFAULT_DETECTOR_ID }),
  );

  // Tiling applies to square-input object detectors only (YOLOX, PicoDet).
  const square = all.filter((d) => d.spec.role === 'detector' && d.spec.input.width === d.spec.input.height);
  const kitti = frames.filter(isKitti);
  const tiling = await section(
    2,
    `tiling: ${square.length} models × ${kitti.length} KITTI frames × ${runs} runs`,
    () => measureTiling({ detectors: square, frames: kitti, runs }),
  );

  // The privacy guard's own face search, with the agent's thread count.
  const faceDetector = await openDetector({
    id: privacyConfig.faceModel,
    modelsDir,
    threads: privacyConfig.faceThreads,
  });
  closers.push(() => faceDetector.close());
  // The residual check's auditors: the face models the redaction did not use (as `audit` picks them).
  const auditorIds = defaultAuditorIds([{ redactions: { faceModel: privacyConfig.faceModel } } as DumpEntry]);
  const auditors: Detector[] = [];
  for (const id of auditorIds) {
    const auditor = await openDetector({ id, modelsDir, threads });
    auditors.push(auditor);
    closers.push(() => auditor.close());
  }
  const blur = await createPrivacyGuard({ config: { ...privacyConfig, faces: 'blur' }, faceDetector });
  const plain = await createPrivacyGuard({ config: { ...privacyConfig, faces: 'off' }, faceDetector: null });
  const pixelate = await createPrivacyGuard({
    config: { ...privacyConfig, faces: 'pixelate' },
    faceDetector,
  });
  // The same blur at other face thresholds: what recall costs the cloud classifier.
  const sweep: { name: string; guard: PrivacyGuard }[] = [];
  for (const faceThreshold of SWEEP_THRESHOLDS.filter((t) => t !== privacyConfig.faceThreshold)) {
    const guard = await createPrivacyGuard({ config: { ...privacyConfig, faceThreshold }, faceDetector });
    sweep.push({ name: `${privacyConfig.faces}, threshold ${faceThreshold}`, guard });
  }
  closers.push(
    () => blur.close(),
    () => plain.close(),
    () => pixelate.close(),
  );
  const cascadeRows = await section(3, `object-level cascade over ${frames.length} frames`, () =>
    measureCascade(frames, {
      detector: detectors.get(detectConfig.model)!,
      config: detectConfig,
      privacy: privacyConfig.faces === 'blur' ? blur : pixelate,
      quality,
      cloudView,
    }),
  );

  const payloads = redactionPayloads(GOAL.shortSide, edge.preprocess);
  const privacyOptions = {
    guards: { plain, blur, pixelate },
    faceDetector,
    auditors,
    encoding: { codec, quality },
    runs,
    payloads,
    residualIou: RESIDUAL_IOU,
  };
  const facePhotos = frames.filter(isFacePhoto);
  const faceCost = await section(4, `privacy cost on ${facePhotos.length} face photos × ${runs} runs`, () =>
    measureRedaction(
      facePhotos.map((f) => f.image),
      'face photos',
      privacyOptions,
    ),
  );
  const resolved = await resolveModel(cloudId, modelsDir);
  const classifier = await createOnnxClassifier({ spec: resolved.spec, path: resolved.path, threads });
  closers.push(() => classifier.close());
  const inet = await section(
    5,
    `privacy cost and cloud top-1 on ${imagenet.frames.length} ImageNet images × ${runs} runs`,
    () =>
      measureImagenet(imagenet.frames, `ImageNet (${imagenet.frames.length}, one in ${stride})`, {
        ...privacyOptions,
        sweep,
        classifier,
        cloud: resolved.spec,
        classified: payloads.find((p) => p.mode === privacyConfig.faces && p.name.includes('crop'))!,
      }),
  );

  const command = `npm run bench:detect -- ${process.argv.slice(2).join(' ')}`.trim();
  const results: DetectBenchResults = {
    machine,
    command,
    settings: {
      dataset: path.relative(process.cwd(), path.resolve(dataset)),
      imagenet: path.relative(process.cwd(), path.resolve(imagenetDir)),
      runs,
      limit,
      stride,
      threads,
      apFloor: AP_FLOOR,
      frames: frames.length,
      sets: Object.fromEntries(
        [...new Set(frames.map((f) => f.set))].map((s) => [s, frames.filter((f) => f.set === s).length]),
      ),
    },
    runtimeS: (performance.now() - started) / 1000,
    baseline: DEFAULT_DETECTOR_ID,
    detectors: detectorRows,
    tiling,
    cascade: {
      detector: detectConfig.model,
      detect: detectConfig,
      privacy: privacyConfig,
      quality,
      cloudView: { resizeShortSide: cloudView.resizeShortSide, centerCrop: cloudView.centerCrop },
      rows: cascadeRows,
    },
    privacyCost: {
      faceModel: privacyConfig.faceModel,
      faceThreads: privacyConfig.faceThreads,
      goal: GOAL,
      residualIou: RESIDUAL_IOU,
      encoding: { codec, quality },
      auditors: auditorIds,
      residualThreshold: AUDIT_THRESHOLD,
      rows: [...faceCost, ...inet.cost],
    },
    privacyAccuracy: { classifier: cloudId, ...inet.accuracy },
  };
  const table = detectTable(results);
  const round6 = (_: string, v: unknown) =>
    typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v;
  const report = `${JSON.stringify(results, round6, 2)}\n`;
  const { json, out } = cli.config;
  if (json) await writeFile(json, report);
  if (out) {
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'results.json'), report);
    await writeFile(path.join(out, 'table.md'), table);
  }
  await publish({
    bench: 'detect',
    section: table,
    headline: detectHeadline(results),
    date: machine.date.slice(0, 10),
    doc: cli.config.doc,
    readme: cli.config.readme,
    fallbackLink: out && path.join(out, 'table.md'),
  });
  process.stdout.write(`${table}\n`);
  log(`total ${seconds(started)} s`);
} catch (err) {
  if (err instanceof ModelLoadError) fail(3, err.message);
  if (err instanceof SourceError) fail(4, err.message);
  fail(1, `bench failed: ${(err as Error).stack ?? String(err)}`);
} finally {
  for (const close of closers.reverse()) await close();
}
