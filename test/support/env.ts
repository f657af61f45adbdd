import { existsSync } from 'node:fs';
import path from 'node:path';
import { DETECTORS, MODELS, resolveModelsDir } from '@squeezegate/shared';
import { pino } from 'pino';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const modelsDir = resolveModelsDir({ configured: process.env.SQUEEZEGATE_MODELS_DIR, cwd: repoRoot });
export const datasetDir = path.resolve(
  repoRoot,
  process.env.SQUEEZEGATE_DATASET_DIR ?? '../shared/datasets/imagenet-sample',
);

const missing = [...MODELS.map((m) => m.file), 'imagenet-simple-labels.json'].filter(
  (f) => !existsSync(path.join(modelsDir, f)),
);
const datasetMissing = !existsSync(path.join(datasetDir, 'manifest.csv'));

/**
 * Whether the real-model tests can run. With CI set, missing models or data are a failure, not
 * a skip: the suite throws at collection so the run goes red.
 */
export const haveRealModels = missing.length === 0 && !datasetMissing;
if (!haveRealModels && process.env.CI) {
  throw new Error(
    `real-model tests need ${missing.join(', ') || 'the sample dataset'} (models dir ${modelsDir}, dataset ${datasetDir}); set SQUEEZEGATE_MODELS_DIR and SQUEEZEGATE_DATASET_DIR`,
  );
}

/** The detection sample (DETECTION.md): `labels.json` + `images/`, next to the ImageNet sample. */
export const detectionDatasetDir = path.resolve(
  repoRoot,
  process.env.SQUEEZEGATE_DETECTION_DATASET_DIR ?? path.join(path.dirname(datasetDir), 'detection-sample'),
);

const detectionMissing = [
  ...[...new Set(DETECTORS.flatMap((d) => [d.file, d.labels.file]))].map((f) => path.join(modelsDir, f)),
  path.join(detectionDatasetDir, 'labels.json'),
].filter((f) => !existsSync(f));

/**
 * Whether the real-detector tests can run (every catalogued detector and label file, and the
 * detection sample). Like haveRealModels, with CI set a missing file fails the run instead of
 * skipping it.
 */
export const haveDetectionModels = detectionMissing.length === 0;
if (!haveDetectionModels && process.env.CI) {
  throw new Error(
    `detection tests need ${detectionMissing.join(', ')} (models dir ${modelsDir}, dataset ${detectionDatasetDir}); set SQUEEZEGATE_MODELS_DIR and SQUEEZEGATE_DETECTION_DATASET_DIR`,
  );
}

export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
