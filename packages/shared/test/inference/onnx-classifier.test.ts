import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Classifier,
  confidence,
  createOnnxClassifier,
  ModelLoadError,
  type ModelSpec,
  type ModelView,
  toModelView,
  topK,
  verifyFile,
} from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyClassifier, solidJpeg, writeTinyModel } from '../../../../test/support/tiny-onnx.ts';

let dir: string;
let spec: ModelSpec;
let modelPath: string;
let red: ModelView;
let grey: ModelView;
let green: ModelView;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sqz-onnx-'));
  // default weights: 20 on R→class 0, G→class 1, B→class 2
  ({ spec, path: modelPath } = await writeTinyModel(dir, buildTinyClassifier()));
  const view = async (rgb: [number, number, number]) =>
    toModelView(await solidJpeg(rgb), { preprocess: spec.preprocess });
  // grey at the ImageNet mean normalises to ≈ 0 on every channel: all logits ≈ 0
  [red, grey, green] = await Promise.all([view([255, 0, 0]), view([124, 116, 104]), view([0, 255, 0])]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(promise: Promise<unknown>): Promise<ModelLoadError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return err as ModelLoadError;
  }
  throw new Error('expected a ModelLoadError');
}

describe('tiny model helper', () => {
  it('writes a file that matches its own spec', async () => {
    await expect(verifyFile(spec, dir)).resolves.toBe(modelPath);
    expect(spec).toMatchObject({ id: 'tiny-test', role: 'edge', urls: [], labels: 'imagenet' });
    expect(spec.output.shape).toEqual(['N', 1000]);
    expect(spec.preprocess).toMatchObject({ resizeShortSide: 256, centerCrop: 224, channelOrder: 'RGB' });
  });
});

describe('createOnnxClassifier', () => {
  let classifier: Classifier;
  beforeAll(async () => {
    classifier = await createOnnxClassifier({ spec, path: modelPath });
  });
  afterAll(async () => {
    await classifier.close();
  });

  it('classifies a red image as class 0 with high probability', async () => {
    const [result] = await classifier.classify([red]);
    expect(result?.probs).toHaveLength(1000);
    expect(topK(result!.probs, 1)[0]?.index).toBe(0);
    expect(result!.probs[0]).toBeGreaterThan(0.9);
    expect(result!.inferMs).toBeGreaterThanOrEqual(0);
  });

  it('gives a mid-grey image a near-uniform distribution', async () => {
    const [result] = await classifier.classify([grey]);
    expect(confidence(result!.probs, 'maxProb')).toBeLessThan(0.01);
    expect(confidence(result!.probs, 'entropy')).toBeLessThan(0.01);
  });

  it('classifies a batch in one run, each image on its own', async () => {
    const results = await classifier.classify([red, green]);
    expect(results).toHaveLength(2);
    expect(topK(results[0]!.probs, 1)[0]?.index).toBe(0);
    expect(topK(results[1]!.probs, 1)[0]?.index).toBe(1);
    expect(results[0]!.inferMs).toBe(results[1]!.inferMs);
    // batching must not change an image's answer
    const [alone] = await classifier.classify([green]);
    expect(results[1]!.probs[1]).toBeCloseTo(alone!.probs[1]!, 5);
  });

  it('returns nothing for an empty batch', async () => {
    await expect(classifier.classify([])).resolves.toEqual([]);
  });

  it('rejects a view of the wrong size', async () => {
    const small = { pixels: Buffer.alloc(32 * 32 * 3), size: 32 };
    await expect(classifier.classify([small])).rejects.toThrow('tiny-test wants 224px views, got 32px');
  });

  it('follows custom weights', async () => {
    const classes = 10;
    const weights = new Float32Array(3 * classes);
    weights[2 * classes + 7] = 30; // blue → class 7
    const custom = await writeTinyModel(dir, buildTinyClassifier({ classes, size: 32, weights }), {
      id: 'tiny-blue',
    });
    expect(custom.spec.preprocess.centerCrop).toBe(32);
    const c = await createOnnxClassifier({ spec: custom.spec, path: custom.path });
    try {
      const blue = await toModelView(await solidJpeg([0, 0, 255]), { preprocess: custom.spec.preprocess });
      const [result] = await c.classify([blue]);
      expect(result?.probs).toHaveLength(10);
      expect(topK(result!.probs, 1)[0]).toEqual({ index: 7, p: expect.closeTo(1, 5) });
    } finally {
      await c.close();
    }
  });
});

describe('classifier lifecycle', () => {
  it('closes idempotently and refuses work afterwards', async () => {
    const c = await createOnnxClassifier({ spec, path: modelPath });
    await c.close();
    await expect(c.close()).resolves.toBeUndefined();
    await expect(c.classify([red])).rejects.toThrow('classifier tiny-test is closed');
  });

  it('lets a run in flight finish before releasing the session', async () => {
    const c = await createOnnxClassifier({ spec, path: modelPath });
    const pending = c.classify([red]);
    await c.close();
    const [result] = await pending;
    expect(result!.probs[0]).toBeGreaterThan(0.9);
  });
});

describe('load failures', () => {
  it('rejects a model whose tensor names differ from the spec', async () => {
    const renamed = await writeTinyModel(dir, buildTinyClassifier({ inputName: 'pixels' }), {
      id: 'tiny-renamed',
    });
    const err = await loadError(createOnnxClassifier({ spec: renamed.spec, path: renamed.path }));
    expect(err.code).toBe('MODEL_LOAD_FAILED');
    expect(err.file).toBe(renamed.path);
    expect(err.message).toContain('inputs [pixels]');
    expect(err.message).toContain('expects data → logits');
  });

  it('rejects a file onnxruntime cannot parse', async () => {
    const file = path.join(dir, 'garbage.onnx');
    await writeFile(file, 'this is not a protobuf');
    const err = await loadError(createOnnxClassifier({ spec, path: file }));
    expect(err.code).toBe('MODEL_LOAD_FAILED');
    expect(err.message).toContain(`onnxruntime cannot load ${file}`);
    expect(err.cause).toBeDefined();
  });
});
