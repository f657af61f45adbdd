// The local backend decodes the devices' images in its workers: the logits must be those of the
// tensors the gateway used to build on its event loop (toModelView + toTensorData), item for item.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type CloudBackend, createBatcher, createLocalBackend } from '@squeezegate/gateway';
import { encodeJpeg, getModelSpec, resolveModel, toModelView, toTensorData } from '@squeezegate/shared';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const modelsDir = process.env.SQUEEZEGATE_MODELS_DIR ?? 'models';
const datasetDir = process.env.SQUEEZEGATE_DATASET_DIR ?? 'datasets/imagenet-sample';
const cloud = getModelSpec('mobilenetv2-12-int8')!;
const edge = getModelSpec('squeezenet1.1')!;

let backend: CloudBackend;
const crops: Buffer[] = [];
const tensors: Float32Array[] = [];

beforeAll(async () => {
  backend = await createLocalBackend({
    ...(await resolveModel(cloud.id, modelsDir)),
    workers: 1,
    threads: 1,
    logger: pino({ level: 'silent' }),
  });
  const names = (await readdir(datasetDir))
    .filter((n) => n.endsWith('.jpg'))
    .sort()
    .slice(0, 4);
  for (const name of names) {
    // What a device sends: the crop its model saw, as a JPEG.
    const view = await toModelView(await readFile(path.join(datasetDir, name)), {
      preprocess: edge.preprocess,
    });
    const jpeg = await encodeJpeg(view, 85);
    crops.push(jpeg);
    const cloudView = await toModelView(jpeg, { preprocess: cloud.preprocess, view: 'crop' });
    tensors.push(toTensorData(cloudView.pixels, cloud.preprocess));
  }
});
afterAll(() => backend?.close());

describe('local backend: images decoded in the worker', () => {
  it('gives the logits of the tensors built on the event loop, bit for bit', async () => {
    expect(backend.runItems).toBeDefined();
    const fromImages = await backend.runItems!(crops.map((bytes) => ({ bytes, view: 'crop' as const })));
    const fromTensors = await backend.run(tensors);
    expect(fromImages).toHaveLength(crops.length);
    fromImages.forEach((r, i) => {
      expect(r.ok).toBe(true);
      if (r.ok) expect(Array.from(r.logits)).toEqual(Array.from(fromTensors[i]!));
    });
  });

  it('cuts the full view of a camera frame as toModelView does', async () => {
    const names = (await readdir(datasetDir))
      .filter((n) => n.endsWith('.jpg'))
      .sort()
      .slice(4, 7);
    const frames = await Promise.all(names.map((n) => readFile(path.join(datasetDir, n))));
    const expected = await backend.run(
      await Promise.all(
        frames.map(async (f) =>
          toTensorData((await toModelView(f, { preprocess: cloud.preprocess })).pixels, cloud.preprocess),
        ),
      ),
    );
    const results = await backend.runItems!(frames.map((bytes) => ({ bytes, view: 'full' as const })));
    results.forEach((r, i) => {
      expect(r.ok).toBe(true);
      if (r.ok) expect(Array.from(r.logits)).toEqual(Array.from(expected[i]!));
    });
  });

  it('takes undecodable images out of the batch and answers the rest, tensors and images mixed', async () => {
    const junk = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const results = await backend.runItems!([
      { bytes: crops[0]!, view: 'crop' },
      { bytes: junk, view: 'crop' },
      tensors[2]!,
    ]);
    const expected = await backend.run([tensors[0]!, tensors[2]!]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    const [a, bad, c] = results;
    if (a?.ok) expect(Array.from(a.logits)).toEqual(Array.from(expected[0]!));
    if (c?.ok) expect(Array.from(c.logits)).toEqual(Array.from(expected[1]!));
    if (bad && !bad.ok) expect(bad.undecodable).toMatch(/^cannot decode image/);
  });

  it('batches images through the batcher and counts only the ones that ran', async () => {
    const batcher = createBatcher({ backend, maxBatch: 8, maxQueueDelayMs: 50, maxQueue: 16 });
    expect(batcher.decodesImages).toBe(true);
    const outcomes = await Promise.all([
      ...crops.map((bytes) => batcher.submitImage({ bytes, view: 'crop' })),
      batcher.submitImage({ bytes: Buffer.from('not an image'), view: 'crop' }),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual([...crops.map(() => 'ok'), 'undecodable']);
    const stats = batcher.stats();
    expect(stats.items).toBe(crops.length);
    for (const o of outcomes) if (o.kind === 'ok') expect(o.batchSize).toBeLessThanOrEqual(crops.length);
  });
});
