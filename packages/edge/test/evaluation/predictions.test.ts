import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  agentVariant,
  argmax,
  createPrivacyGuard,
  type FramePrediction,
  type PredictOptions,
  payloadOf,
  predictSet,
  privacyKey,
  type SourceFrame,
} from '@squeezegate/edge';
import { type Classifier, createOnnxClassifier, PayloadSchema, PrivacySchema } from '@squeezegate/shared';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeFaces } from '../../../../test/support/fake-faces.ts';
import { buildTinyClassifier, solidJpeg, writeTinyModel } from '../../../../test/support/tiny-onnx.ts';

const CLASSES = 10;
const SIZE = 32;

/** The cloud model reads R → class 5, G → 6, B → 7, so its answers are told apart from the edge's. */
function cloudWeights(): Float32Array {
  const w = new Float32Array(3 * CLASSES);
  for (let c = 0; c < 3; c++) w[c * CLASSES + 5 + c] = 20;
  return w;
}

/** A classifier that counts the frames it is asked to classify. */
function counting(inner: Classifier): Classifier & { calls: number } {
  const wrapped = {
    calls: 0,
    spec: inner.spec,
    classify(views: Parameters<Classifier['classify']>[0]) {
      wrapped.calls++;
      return inner.classify(views);
    },
    close: () => inner.close(),
    [Symbol.asyncDispose]: () => inner.close(),
  };
  return wrapped;
}

let dir: string;
let cacheDir: string;
let edge: Classifier & { calls: number };
let cloud: Classifier & { calls: number };
let frames: SourceFrame[];
const sizes = new Map<string, number>();

const COLOURS: [string, [number, number, number], number | null][] = [
  ['a-red.jpg', [255, 0, 0], 0],
  ['b-green.jpg', [0, 255, 0], 1],
  ['c-blue.jpg', [0, 0, 255], 2],
  ['e-red-unlabelled.jpg', [250, 10, 10], null],
];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sqz-predict-'));
  cacheDir = path.join(dir, 'cache');
  const e = await writeTinyModel(dir, buildTinyClassifier({ classes: CLASSES, size: SIZE }), {
    id: 'tiny-edge',
  });
  const c = await writeTinyModel(
    dir,
    buildTinyClassifier({ classes: CLASSES, size: SIZE, weights: cloudWeights() }),
    {
      id: 'tiny-cloud',
    },
  );
  edge = counting(await createOnnxClassifier(e));
  cloud = counting(await createOnnxClassifier(c));
  frames = [];
  for (const [i, [name, rgb, truth]] of COLOURS.entries()) {
    const file = path.join(dir, name);
    const bytes = await solidJpeg(rgb);
    await writeFile(file, bytes);
    sizes.set(name, bytes.length);
    frames.push({ seq: i, file, name, truth });
  }
  // Not an image: between the third and the fourth good frame.
  const broken = path.join(dir, 'd-broken.jpg');
  await writeFile(broken, 'this is not a jpeg');
  frames.splice(3, 0, { seq: 99, file: broken, name: 'd-broken.jpg', truth: 4 });
});

afterAll(async () => {
  await edge?.close();
  await cloud?.close();
  await rm(dir, { recursive: true, force: true });
});

const options = (): PredictOptions => ({ frames, edge, cloud, variants: ['captured', 'crop-q85'], cacheDir });

/** Predictions with the edge probabilities as plain numbers (a cache hit is a view on the file's bytes). */
const summary = (predictions: readonly FramePrediction[]) =>
  predictions.map((p) => ({ ...p, edge: Array.from(p.edge) }));

describe('predictSet', () => {
  let first: Awaited<ReturnType<typeof predictSet>>;
  const progress: [number, number][] = [];

  beforeAll(async () => {
    first = await predictSet({ ...options(), onProgress: (done, total) => progress.push([done, total]) });
  });

  it('predicts every readable frame and reports the unreadable one', () => {
    expect(first.predictions.map((p) => p.name)).toEqual([
      'a-red.jpg',
      'b-green.jpg',
      'c-blue.jpg',
      'e-red-unlabelled.jpg',
    ]);
    expect(first.skipped).toHaveLength(1);
    expect(first.skipped[0]!.name).toBe('d-broken.jpg');
    expect(first.skipped[0]!.error.length).toBeGreaterThan(0);
    expect(progress).toEqual([
      [1, 5],
      [2, 5],
      [3, 5],
      [4, 5],
      [5, 5],
    ]);
  });

  it('one edge and two cloud inferences per frame', () => {
    expect(edge.calls).toBe(4);
    expect(cloud.calls).toBe(8);
  });

  it('carries the truth and the edge’s probabilities', () => {
    expect(first.predictions.map((p) => p.truth)).toEqual([0, 1, 2, null]);
    for (const p of first.predictions) {
      expect(p.edge).toBeInstanceOf(Float32Array);
      expect(p.edge).toHaveLength(CLASSES);
      expect(p.edge.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
    }
    // Default tiny weights: R → 0, G → 1, B → 2.
    expect(first.predictions.map((p) => argmax(p.edge))).toEqual([0, 1, 2, 0]);
  });

  it('has the cloud’s answer per variant, with the file size for captured and less for the crop', () => {
    for (const p of first.predictions) {
      expect(Object.keys(p.cloud).sort()).toEqual(['captured', 'crop-q85']);
      expect(p.capturedBytes).toBe(sizes.get(p.name));
      expect(p.cloud.captured.bytes).toBe(sizes.get(p.name));
      expect(p.cloud['crop-q85']!.bytes).toBeGreaterThan(0);
      expect(p.cloud['crop-q85']!.bytes).toBeLessThan(p.capturedBytes);
    }
    // The cloud model's own classes (5, 6, 7), sure of them, on both payloads.
    expect(first.predictions.map((p) => p.cloud.captured.top1)).toEqual([5, 6, 7, 5]);
    expect(first.predictions.map((p) => p.cloud['crop-q85']!.top1)).toEqual([5, 6, 7, 5]);
    for (const p of first.predictions) expect(p.cloud.captured.p).toBeGreaterThan(0.9);
  });

  it('caches per model: edge and cloud under their own id and sha256', async () => {
    const entries = (await readdir(cacheDir)).sort();
    expect(entries).toEqual([
      `cloud-tiny-cloud-${cloud.spec.sha256.slice(0, 12)}`,
      `edge-tiny-edge-${edge.spec.sha256.slice(0, 12)}`,
    ]);
    // One probability file per readable frame; cloud answers per variant, crops keyed by the edge's resize and crop.
    expect(await readdir(path.join(cacheDir, entries[1]!))).toHaveLength(4);
    expect((await readdir(path.join(cacheDir, entries[0]!))).sort()).toEqual([
      'captured.json',
      `crop-q85-from${edge.spec.preprocess.resizeShortSide}-${SIZE}.json`,
    ]);
  });

  it('a second run reads everything from the cache: no inference, the same numbers', async () => {
    edge.calls = 0;
    cloud.calls = 0;
    const again = await predictSet(options());
    expect(edge.calls).toBe(0);
    expect(cloud.calls).toBe(0);
    expect(summary(again.predictions)).toEqual(summary(first.predictions));
    expect(again.skipped.map((s) => s.name)).toEqual(['d-broken.jpg']);
  });

  it('computes again once the cache is gone', async () => {
    await rm(cacheDir, { recursive: true, force: true });
    edge.calls = 0;
    cloud.calls = 0;
    const fresh = await predictSet(options());
    expect(edge.calls).toBe(4);
    expect(cloud.calls).toBe(8);
    expect(summary(fresh.predictions)).toEqual(summary(first.predictions));
    expect((await stat(cacheDir)).isDirectory()).toBe(true);
  });

  it('a new variant costs cloud inferences only for that variant', async () => {
    edge.calls = 0;
    cloud.calls = 0;
    const more = await predictSet({ ...options(), variants: ['crop-q85', 'crop-q50'] });
    expect(edge.calls).toBe(0);
    expect(cloud.calls).toBe(4);
    for (const p of more.predictions) {
      expect(Object.keys(p.cloud).sort()).toEqual(['captured', 'crop-q50', 'crop-q85']);
      expect(p.cloud['crop-q50']!.bytes).toBeLessThanOrEqual(p.cloud['crop-q85']!.bytes);
    }
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(predictSet({ ...options(), signal: controller.signal })).rejects.toThrow('stop');
  });
});

const centreFace = () => fakeFaces([0.3, 0.3, 0.7, 0.7]);

describe('the agent’s payload, redacted by its own guard', () => {
  const crop = PayloadSchema.parse({});

  it('names a variant per pixel-changing privacy setting, and reads its payload back', () => {
    const off = PrivacySchema.parse({ faces: 'off' });
    expect(agentVariant(crop, off)).toBe('crop-webp-q80');
    expect(privacyKey(off)).toBeNull();
    const pixelate = PrivacySchema.parse({});
    const v = agentVariant(crop, pixelate);
    expect(v).toMatch(/^crop-webp-q80\+pixelate-[0-9a-f]{10}$/);
    // Threads, the ledger and the dump change no pixel: the same key.
    expect(agentVariant(crop, PrivacySchema.parse({ faceThreads: 1, ledger: '/tmp/l' }))).toBe(v);
    expect(agentVariant(crop, PrivacySchema.parse({ facePadding: 0.1 }))).not.toBe(v);
    // With privacy on, `original` is re-encoded: its codec and quality are in the name.
    const original = agentVariant({ ...crop, kind: 'original' }, pixelate);
    expect(original).toMatch(/^original-webp-q80\+pixelate-/);
    expect(payloadOf(original)).toEqual({ kind: 'original', codec: 'webp', quality: 80 });
    expect(payloadOf(v)).toEqual({ kind: 'crop', codec: 'webp', quality: 80 });
  });

  it('refuses a redacted variant without its guard', async () => {
    const v = agentVariant(crop, PrivacySchema.parse({}));
    await expect(predictSet({ ...options(), variants: [v] })).rejects.toThrow(/needs the privacy guard/);
  });

  it('pixelate: the payload the agent would send, scored by the cloud', async () => {
    const config = PrivacySchema.parse({ faceModel: 'ultraface-rfb320' });
    const key = privacyKey(config)!;
    const faces = centreFace();
    const guard = await createPrivacyGuard({ config, faceDetector: faces });
    const v = agentVariant(crop, config);
    const out = await predictSet({ ...options(), variants: [v, 'crop-webp-q80'], privacy: { guard, key } });
    // Each readable frame's payload was searched for faces, once.
    expect(faces.calls).toBe(4);
    for (const p of out.predictions) {
      const redacted = p.cloud[v]!;
      expect(redacted.withheld).toBeUndefined();
      expect(redacted.bytes).toBeGreaterThan(0);
      // The middle of a solid colour is still that colour: the cloud's answer stands.
      expect(redacted.top1).toBe(p.cloud['crop-webp-q80']!.top1);
    }
    await guard.close();
  });

  it('pixelate: a textured frame’s payload is not the unredacted crop', async () => {
    // Solid colours pixelate to themselves; a gradient does not.
    const width = 96;
    const pixels = Buffer.alloc(width * width * 3);
    for (let i = 0; i < width * width; i++)
      pixels.fill((i % width) * 2 + Math.floor(i / width), i * 3, i * 3 + 3);
    const file = path.join(dir, 'gradient.png');
    await sharp(pixels, { raw: { width, height: width, channels: 3 } })
      .png()
      .toFile(file);
    const config = PrivacySchema.parse({ faceModel: 'ultraface-rfb320' });
    const guard = await createPrivacyGuard({ config, faceDetector: centreFace() });
    const v = agentVariant(crop, config);
    try {
      const out = await predictSet({
        ...options(),
        frames: [{ seq: 0, file, name: 'gradient.png', truth: 0 }],
        variants: [v, 'crop-webp-q80'],
        privacy: { guard, key: privacyKey(config)! },
      });
      const p = out.predictions[0]!;
      expect(p.cloud[v]!.bytes).not.toBe(p.cloud['crop-webp-q80']!.bytes);
    } finally {
      await guard.close();
    }
  });

  it('withhold: a frame with a face keeps the edge’s answer and sends nothing', async () => {
    const config = PrivacySchema.parse({ faces: 'withhold', faceModel: 'ultraface-rfb320' });
    const guard = await createPrivacyGuard({ config, faceDetector: centreFace() });
    const v = agentVariant(crop, config);
    const out = await predictSet({
      ...options(),
      variants: [v],
      privacy: { guard, key: privacyKey(config)! },
    });
    for (const p of out.predictions) {
      expect(p.cloud[v]).toMatchObject({ withheld: true, bytes: 0, top1: argmax(p.edge) });
    }
    await guard.close();
  });
});
