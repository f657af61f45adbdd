import { existsSync } from 'node:fs';
import path from 'node:path';
import { MODELS, resolveModelsDir } from '@squeezegate/shared';
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

export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
