import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openDirectorySource } from '@squeezegate/edge';
import {
  createOnnxClassifier,
  MODELS,
  type ModelView,
  resolveModel,
  toModelView,
  topK,
} from '@squeezegate/shared';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels, modelsDir } from '../support/env.ts';

/**
 * Preprocessing + the real models reproduce MODELS.md on the 1000-image sample: top-1 within
 * one point, and the per-image top-1 agrees with reference-predictions.csv on ≥ 99 % of images.
 */
describe.skipIf(!haveRealModels)('real models on the 1000-image sample', () => {
  const reference = new Map<string, Record<string, string>>();
  const frames: { file: string; name: string; truth: number }[] = [];

  beforeAll(async () => {
    const rows: Record<string, string>[] = parse(
      await readFile(path.join(modelsDir, 'reference-predictions.csv')),
      {
        columns: true,
      },
    );
    for (const row of rows) reference.set(row.file!, row);
    const source = await openDirectorySource({ dir: datasetDir });
    for (const f of source.frames) frames.push({ file: f.file, name: f.name, truth: f.truth! });
    expect(frames).toHaveLength(1000);
  });

  it.each(MODELS.map((m) => [m.id, m.sampleTop1] as const))(
    '%s reproduces its MODELS.md top-1 (%d)',
    async (id, expected) => {
      const classifier = await createOnnxClassifier(await resolveModel(id, modelsDir));
      let correct = 0;
      let agree = 0;
      try {
        const BATCH = 8;
        for (let i = 0; i < frames.length; i += BATCH) {
          const batch = frames.slice(i, i + BATCH);
          const views: ModelView[] = await Promise.all(
            batch.map(async (f) =>
              toModelView(await readFile(f.file), { preprocess: classifier.spec.preprocess }),
            ),
          );
          const out = await classifier.classify(views);
          batch.forEach((f, j) => {
            const top1 = topK(out[j]!.probs, 1)[0]!.index;
            if (top1 === f.truth) correct++;
            if (String(top1) === reference.get(f.name)?.[`${id}:top1`]) agree++;
          });
        }
      } finally {
        await classifier.close();
      }
      const top1 = (correct / frames.length) * 100;
      expect(Math.abs(top1 - expected)).toBeLessThanOrEqual(1);
      expect(agree / frames.length).toBeGreaterThanOrEqual(0.99);
    },
  );
});
