import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Box,
  type Classifier,
  closeUps,
  createFaceSearch,
  type Detection,
  type DetectOptions,
  type Detector,
  decodeImage,
  getDetectorSpec,
  getModelSpec,
  iou,
  ModelLoadError,
  mirroredView,
  mirrorPad,
  openDetector,
  type RawImage,
} from '@squeezegate/shared';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  datasetDir,
  detectionDatasetDir,
  haveDetectionModels,
  haveRealModels,
  modelsDir,
} from '../../../../test/support/env.ts';

const gray = (width: number, height: number, v = 128): RawImage => ({
  pixels: Buffer.alloc(width * height * 3, v),
  width,
  height,
});

/** A detector that answers `answer(image)` and remembers what it was asked. */
function fakeDetector(id: string, answer: (image: RawImage, o: DetectOptions) => Detection[]) {
  const calls: { width: number; height: number; options: DetectOptions }[] = [];
  let closed = 0;
  const detector: Detector = {
    spec: getDetectorSpec(id)!,
    labels: ['face'],
    async detect(image, options = {}) {
      calls.push({ width: image.width, height: image.height, options });
      return { detections: answer(image, options), inferMs: 0, preMs: 0, tiles: 1 };
    },
    close: async () => {
      closed++;
    },
    [Symbol.asyncDispose]: async () => {},
  };
  return { detector, calls, closed: () => closed };
}

/** A classifier putting `mass` on class 0 (tench, an animal) and the rest on class 500 (a thing). */
function fakeClassifier(mass: number) {
  let asked = 0;
  const classifier: Classifier = {
    spec: getModelSpec('squeezenet1.1')!,
    async classify(views) {
      asked += views.length;
      return views.map(() => {
        const probs = new Float32Array(1000);
        probs[0] = mass;
        probs[500] = 1 - mass;
        return { probs, inferMs: 0 };
      });
    },
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
  return { classifier, asked: () => asked };
}

const det = (box: Box, score: number, landmarks?: Detection['landmarks']): Detection => ({
  box,
  score,
  classIndex: 0,
  label: 'face',
  ...(landmarks ? { landmarks } : {}),
});

describe('mirrorPad and mirroredView', () => {
  it('grows the image by a mirrored margin', async () => {
    // 4×2 image, columns 10, 20, 30, 40.
    const pixels = Buffer.from([10, 20, 30, 40, 10, 20, 30, 40].flatMap((v) => [v, v, v]));
    const { image, margin } = await mirrorPad({ pixels, width: 4, height: 2 }, 1);
    expect(margin).toBe(1);
    expect([image.width, image.height]).toEqual([6, 4]);
    // The first row of the padded image mirrors the original's first row (libvips repeats the
    // edge pixel): 10 | 10 20 30 40 | 40.
    expect([0, 1, 2, 3, 4, 5].map((x) => image.pixels[x * 3])).toEqual([10, 10, 20, 30, 40, 40]);
  });

  it('caps the margin below the image size and cuts views past the edge', async () => {
    expect((await mirrorPad(gray(4, 2), 10)).margin).toBe(1);
    const view = await mirroredView(gray(20, 20, 90), { left: -10, top: -10, width: 20, height: 20 }, 32);
    expect([view.width, view.height]).toEqual([32, 32]);
    expect(view.pixels.every((v) => v === 90)).toBe(true);
  });
});

describe('createFaceSearch', () => {
  it('asks YuNet for a mirrored margin and up to twice the scale, and keeps its landmarks', async () => {
    const landmarks = [
      [30, 35],
      [50, 35],
      [40, 45],
      [32, 55],
      [48, 55],
    ] as const;
    const yunet = fakeDetector('yunet-s', () => [det([20, 20, 60, 70], 0.95, landmarks)]);
    const search = createFaceSearch({ yunet: yunet.detector, others: [], animals: null });
    const { detections, spared } = await search.detect(gray(100, 80), { scoreThreshold: 0.5 });
    // 100×80 is far below the 512² budget: scale 2; the margin an eighth of the short side.
    expect(yunet.calls).toEqual([
      { width: 100, height: 80, options: { scoreThreshold: 0.5, scale: 2, mirror: 0.125 } },
    ]);
    expect(detections).toHaveLength(1);
    expect(detections[0]!.box).toEqual([20, 20, 60, 70]);
    expect(detections[0]!.landmarks).toEqual(landmarks);
    expect(spared).toEqual([]);
    expect(search.spec.id).toBe('yunet-s');
    expect(search.models).toEqual(['yunet-s']);
  });

  it('searches a large image at its own scale', async () => {
    const yunet = fakeDetector('yunet-s', () => []);
    const search = createFaceSearch({ yunet: yunet.detector, others: [], animals: null });
    await search.detect(gray(1024, 768));
    expect(yunet.calls[0]).toMatchObject({ width: 1024, height: 768, options: { scale: 1 } });
  });

  it('merges the models into one candidate per face and spares an animal', async () => {
    const yunet = fakeDetector('yunet-s', () => [det([40, 40, 100, 100], 0.8)]);
    const ultraface = fakeDetector('ultraface-rfb320', () => [
      det([42, 38, 102, 100], 0.99),
      det([150, 10, 160, 20], 0.6),
    ]);
    const dog = fakeClassifier(0.99);
    const search = createFaceSearch({
      yunet: yunet.detector,
      others: [ultraface.detector],
      animals: dog.classifier,
    });
    expect(search.spec.id).toBe('yunet-s+ultraface-rfb320');
    const { detections, spared } = await search.detect(gray(200, 200));
    // The 10 px face is small: redacted without asking; the 60 px one is YuNet-likely and the
    // classifier puts 0.99 on animals: spared.
    expect(detections.map((d) => d.box)).toEqual([[150, 10, 160, 20]]);
    expect(spared).toHaveLength(1);
    expect(spared[0]).toMatchObject({
      box: [40, 40, 100, 100],
      score: 0.99,
      verdict: { redact: false, reason: 'animal' },
    });
    expect(dog.asked()).toBe(1);
  });

  it('redacts the same face when the classifier sees no animal, and without a classifier', async () => {
    const yunet = fakeDetector('yunet-s', () => [det([40, 40, 100, 100], 0.8)]);
    const person = createFaceSearch({
      yunet: yunet.detector,
      others: [],
      animals: fakeClassifier(0.2).classifier,
    });
    expect((await person.detect(gray(200, 200))).detections).toHaveLength(1);
    const unchecked = createFaceSearch({ yunet: yunet.detector, others: [], animals: null });
    expect((await unchecked.detect(gray(200, 200))).detections).toHaveLength(1);
  });

  it('shows small images to the other models as four overlapping quarters too, when asked', async () => {
    const views = await closeUps(gray(100, 80), 320);
    expect(views.map((v) => [v.left, v.top, v.image.width, v.image.height])).toEqual([
      [0, 0, 100, 80],
      [0, 0, 63, 50],
      [37, 0, 63, 50],
      [0, 30, 63, 50],
      [37, 30, 63, 50],
    ]);
    expect(await closeUps(gray(400, 300), 320)).toHaveLength(1);
    const ultraface = fakeDetector('ultraface-rfb320', (image) =>
      image.width === 63 ? [det([10, 10, 20, 20], 0.8)] : [],
    );
    const search = createFaceSearch({
      yunet: null,
      others: [ultraface.detector],
      animals: null,
      otherTiles: 320,
    });
    // Each quarter's face lands at the quarter's offset in the image.
    const boxes = (await search.detect(gray(100, 80))).detections.map((d) => d.box);
    expect(boxes).toEqual([
      [10, 10, 20, 20],
      [47, 10, 57, 20],
      [10, 40, 20, 50],
      [47, 40, 57, 50],
    ]);
    expect(ultraface.calls).toHaveLength(5);
  });

  it('closes its models once (unless it does not own them)', async () => {
    const yunet = fakeDetector('yunet-s', () => []);
    const ultraface = fakeDetector('ultraface-rfb320', () => []);
    const search = createFaceSearch({ yunet: yunet.detector, others: [ultraface.detector], animals: null });
    await search.close();
    await search.close();
    expect([yunet.closed(), ultraface.closed()]).toEqual([1, 1]);
    const borrowed = createFaceSearch({
      yunet: yunet.detector,
      others: [],
      animals: null,
      ownsModels: false,
    });
    await borrowed.close();
    expect(yunet.closed()).toBe(1);
    expect(() => createFaceSearch({ yunet: null, others: [], animals: null })).toThrow(RangeError);
  });
});

describe('opening a face search', () => {
  it('names every missing file at once', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'sg-no-models-'));
    const err = await openDetector({ id: 'yunet-s+ultraface-rfb320', modelsDir: empty }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelLoadError);
    const message = (err as Error).message;
    for (const file of [
      'yunet_s_dynamic.onnx',
      'yunet.labels.txt',
      'ultraface_rfb320.onnx',
      'squeezenet1.1.onnx',
    ])
      expect(message).toContain(file);
    await expect(openDetector({ id: 'yunet-s+yunet-s', modelsDir: empty })).rejects.toThrow(
      /not a face search/,
    );
  });
});

describe.skipIf(!haveDetectionModels || !haveRealModels)('the default face search on real photos', () => {
  let search: Detector;
  beforeAll(async () => {
    search = await openDetector({ id: 'yunet-s+ultraface-rfb320', modelsDir });
  });
  afterAll(() => search?.close());

  it('redacts all 14 faces of the group photo and spares none', async () => {
    const image = await decodeImage(path.join(detectionDatasetDir, 'images', 'faces_06.jpg'));
    const result = (await search.detect(image, { scoreThreshold: 0.5 })) as Awaited<
      ReturnType<ReturnType<typeof createFaceSearch>['detect']>
    >;
    expect(result.detections).toHaveLength(14);
    expect(result.spared).toEqual([]);
  });

  it('finds faces cut in half by the edge of a crop (the mirrored margin)', async () => {
    const image = await decodeImage(path.join(detectionDatasetDir, 'images', 'faces_06.jpg'));
    const whole = (await search.detect(image, { scoreThreshold: 0.5 })).detections;
    let found = 0;
    // Cut the photo through the middle of each face in turn: the half left at the crop's edge
    // must still be found. Without the mirror, one of the 14 is not (measured).
    for (const face of whole) {
      const cx = Math.round((face.box[0] + face.box[2]) / 2);
      const pixels = await sharp(image.pixels, {
        raw: { width: image.width, height: image.height, channels: 3 },
      })
        .extract({ left: cx, top: 0, width: image.width - cx, height: image.height })
        .raw()
        .toBuffer();
      const half: Box = [0, face.box[1], face.box[2] - cx, face.box[3]];
      const cut = { pixels, width: image.width - cx, height: image.height };
      const hits = (await search.detect(cut, { scoreThreshold: 0.5 })).detections;
      if (hits.some((d) => iou(d.box, half) >= 0.3)) found++;
    }
    expect(found).toBe(14);
  });

  it("spares a dog's face that the face models take for a face", async () => {
    // The redbone's face: UltraFace scores it 1.00, YuNet 0.88; SqueezeNet sees a hound.
    const image = await decodeImage(path.join(datasetDir, 'n02090379_redbone.jpg'));
    const result = (await search.detect(image, { scoreThreshold: 0.5 })) as Awaited<
      ReturnType<ReturnType<typeof createFaceSearch>['detect']>
    >;
    expect(result.spared.map((s) => s.verdict.reason)).toContain('animal');
    expect(result.detections.filter((d) => d.box[2] - d.box[0] >= 24)).toEqual([]);
  });
});
