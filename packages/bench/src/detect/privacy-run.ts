#!/usr/bin/env node
// Sections 4 and 5 of bench:detect on their own, the residual check by independent auditors
// (issue 15): what redaction costs a payload, whether an auditor still finds the faces, and what
// it costs the cloud on ImageNet crops, from one run. Until bench:detect's main.ts passes
// `auditors` to privacy.ts itself, this is the command that measures the face search as audited.
//
//   node --conditions=source --import tsx packages/bench/src/detect/privacy-run.ts \
//     --models-dir ../shared/models --json privacy.json
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  createPrivacyGuard,
  type DumpEntry,
  defaultAuditorIds,
  openDirectorySource,
} from '@squeezegate/edge';
import {
  createOnnxClassifier,
  getModelSpec,
  openDetector,
  PrivacySchema,
  resolveModel,
  resolveModelsDir,
} from '@squeezegate/shared';
import { describeMachine, machineInfo } from '../machine.ts';
import { measureImagenet, measureRedaction, redactionPayloads } from './privacy.ts';
import { isFacePhoto, loadDetectionSample } from './sample.ts';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: '../shared/datasets/detection-sample' },
    imagenet: { type: 'string', default: '../shared/datasets/imagenet-sample' },
    'models-dir': { type: 'string' },
    'face-model': { type: 'string' },
    runs: { type: 'string', default: '3' },
    limit: { type: 'string', default: '300' },
    json: { type: 'string' },
  },
});
const modelsDir = resolveModelsDir({
  configured: values['models-dir'] ?? process.env.SQUEEZEGATE_MODELS_DIR,
});
const config = PrivacySchema.parse(values['face-model'] ? { faceModel: values['face-model'] } : {});
const runs = Number(values.runs);
const limit = Number(values.limit);
const log = (line: string) => process.stderr.write(`${line}\n`);
const machine = machineInfo();
log(`machine: ${describeMachine(machine)}; face search ${config.faceModel}`);

const faceDetector = await openDetector({ id: config.faceModel, modelsDir, threads: config.faceThreads });
const auditorIds = defaultAuditorIds([{ redactions: { faceModel: config.faceModel } } as DumpEntry]);
const auditors = await Promise.all(auditorIds.map((id) => openDetector({ id, modelsDir })));
const guards = {
  plain: await createPrivacyGuard({ config: { ...config, faces: 'off' }, faceDetector: null }),
  blur: await createPrivacyGuard({ config: { ...config, faces: 'blur' }, faceDetector }),
  pixelate: await createPrivacyGuard({ config: { ...config, faces: 'pixelate' }, faceDetector }),
};
const payloads = redactionPayloads(320, getModelSpec('squeezenet1.1')!.preprocess);
const options = { guards, faceDetector, auditors, quality: 85, runs, payloads, residualIou: 0.3 };

const faces = (await loadDetectionSample(values.dataset)).filter(isFacePhoto).map((f) => f.image);
const faceCost = await measureRedaction(faces, 'face photos', options);
const stride = Math.max(
  1,
  Math.floor((await openDirectorySource({ dir: values.imagenet })).frames.length / limit),
);
const imagenet = await openDirectorySource({ dir: values.imagenet, limit: limit * stride, stride });
const cloud = await resolveModel('mobilenetv2-12-int8', modelsDir);
const classifier = await createOnnxClassifier({ spec: cloud.spec, path: cloud.path, threads: 1 });
const inet = await measureImagenet(
  imagenet.frames,
  `ImageNet (${imagenet.frames.length}, one in ${stride})`,
  {
    ...options,
    classifier,
    cloud: cloud.spec,
    classified: payloads.find((p) => p.mode === config.faces && p.name.includes('crop'))!,
  },
);

const ms = (v: number) => v.toFixed(1);
for (const r of [...faceCost, ...inet.cost]) {
  log(
    `${r.images} · ${r.payload}: +${ms(r.redactionMs.p50)} / ${ms(r.redactionMs.p95)} ms (p50 / p95); ` +
      `${auditorIds.join('+')} still finds ${r.residual.stillFound} of ${r.residual.found} faces`,
  );
}
const off = inet.accuracy.rows.find((r) => r.faces === 'off')!;
for (const r of inet.accuracy.rows) {
  log(
    `cloud top-1, faces ${r.faces}: ${(100 * r.top1).toFixed(1)} % (${(100 * (off.top1 - r.top1)).toFixed(1)} points lost)`,
  );
}
for (const [mode, c] of Object.entries(inet.changed)) log(`${mode}: lost ${c.lost.join(', ') || 'none'}`);
if (values.json) {
  const report = {
    machine,
    faceModel: config.faceModel,
    auditors: auditorIds,
    runs,
    faceCost,
    imagenet: inet,
  };
  await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
}
for (const c of [faceDetector, ...auditors, classifier]) await c.close();
for (const g of Object.values(guards)) await g.close();
