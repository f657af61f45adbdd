import {
  ALL_FILES,
  getModelSpec,
  LABEL_FILE,
  loadLabels,
  MODEL_IDS,
  MODELS,
  ModelSpecSchema,
  resolveModel,
  verifyFile,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { haveRealModels, modelsDir as SHARED_MODELS } from '../../../../test/support/env.ts';

// The catalog must describe the exact files of the models directory (see MODELS.md).

describe('catalog', () => {
  it('has valid, unique entries', () => {
    for (const m of MODELS) expect(ModelSpecSchema.safeParse(m).success, m.id).toBe(true);
    expect(MODEL_IDS).toEqual(['squeezenet1.1', 'squeezenet1.0-deepcompression', 'mobilenetv2-12-int8']);
    expect(new Set(ALL_FILES.map((f) => f.file)).size).toBe(ALL_FILES.length);
    expect(ALL_FILES).toContain(LABEL_FILE);
  });

  it('has one edge and one cloud model, each with its crop matching its input', () => {
    expect(MODELS.filter((m) => m.role === 'edge').map((m) => m.id)).toEqual(['squeezenet1.1']);
    expect(MODELS.filter((m) => m.role === 'cloud').map((m) => m.id)).toEqual(['mobilenetv2-12-int8']);
    for (const m of MODELS)
      expect(m.input.shape.slice(1), m.id).toEqual([3, m.preprocess.centerCrop, m.preprocess.centerCrop]);
  });

  it('looks models up by id', () => {
    expect(getModelSpec('mobilenetv2-12-int8')?.file).toBe('mobilenetv2-12-int8.onnx');
    expect(getModelSpec('nope')).toBeUndefined();
  });

  it.skipIf(!haveRealModels).each(ALL_FILES.map((f) => [f.file, f] as const))(
    'matches the shared copy of %s (size and sha256)',
    async (_, spec) => {
      await expect(verifyFile(spec, SHARED_MODELS)).resolves.toBe(`${SHARED_MODELS}/${spec.file}`);
    },
  );

  it.skipIf(!haveRealModels)('resolves a model and loads the labels from the shared copy', async () => {
    const resolved = await resolveModel('squeezenet1.1', SHARED_MODELS);
    expect(resolved.spec.id).toBe('squeezenet1.1');
    expect(resolved.path).toBe(`${SHARED_MODELS}/squeezenet1.1.onnx`);
    const labels = await loadLabels(SHARED_MODELS);
    expect(labels).toHaveLength(1000);
    expect(labels[0]).toBe('tench');
    expect(labels[207]).toBe('Golden Retriever');
    expect(Object.isFrozen(labels)).toBe(true);
  });
});
