import { readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  type DecodeOptions,
  type Detection,
  type Detector,
  decodeImage,
  decodeYunet,
  dynamicInputSize,
  getDetectorSpec,
  type InputMapping,
  iou,
  openDetector,
  type RawImage,
  type YunetOutputs,
} from '@squeezegate/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectionDatasetDir, haveDetectionModels, modelsDir } from '../../../../test/support/env.ts';

// A 64×64 input: 8² cells at stride 8, 4² at 16, 2² at 32.
const CELLS = [64, 16, 4];
function outputs(): YunetOutputs & {
  cls: Float32Array[];
  obj: Float32Array[];
  bbox: Float32Array[];
  kps: Float32Array[];
} {
  return {
    cls: CELLS.map((n) => new Float32Array(n)),
    obj: CELLS.map((n) => new Float32Array(n)),
    bbox: CELLS.map((n) => new Float32Array(n * 4)),
    kps: CELLS.map((n) => new Float32Array(n * 10)),
  };
}
/** Sets one cell of one stride level. */
function cell(
  o: ReturnType<typeof outputs>,
  level: number,
  i: number,
  v: { cls: number; obj: number; bbox: number[]; kps?: number[] },
) {
  o.cls[level]![i] = v.cls;
  o.obj[level]![i] = v.obj;
  o.bbox[level]!.set(v.bbox, i * 4);
  o.kps[level]!.set(v.kps ?? new Array(10).fill(0), i * 10);
}

// A 128×128 frame letterboxed into 64²: r = 0.5.
const mapping: InputMapping = {
  scaleX: 0.5,
  scaleY: 0.5,
  padLeft: 0,
  padTop: 0,
  region: { left: 0, top: 0, width: 128, height: 128 },
};
const opts: DecodeOptions = {
  mapping,
  input: { width: 64, height: 64 },
  labels: ['face'],
  scoreThreshold: 0.6,
  nms: 0.3,
  maxDetections: 5000,
};

function expectClose(actual: readonly number[], expected: readonly number[]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    expect(v, `value ${i}`).toBeCloseTo(expected[i]!, 4);
  });
}

describe('decodeYunet (DETECTION.md §5)', () => {
  it('decodes a cell into a frame box, score sqrt(cls·obj), and five landmarks', () => {
    const o = outputs();
    // Stride 8, cell (x 3, y 2) = index 19: centre (3.5·8, 2.5·8) = (28, 20), size (2·8, 3·8).
    cell(o, 0, 19, {
      cls: 0.81,
      obj: 1,
      bbox: [0.5, 0.5, Math.log(2), Math.log(3)],
      kps: [0, 0, 1, 0, 0.5, 0.5, 0, 1, 1, 1],
    });
    const [d, ...rest] = decodeYunet(o, opts);
    expect(rest).toEqual([]);
    expect(d!.score).toBeCloseTo(0.9, 6);
    expect(d!.label).toBe('face');
    expectClose(d!.box, [40, 16, 72, 64]); // (20, 8, 36, 32) / 0.5
    expect(d!.landmarks).toHaveLength(5);
    expectClose(d!.landmarks!.flat(), [48, 32, 64, 32, 56, 40, 48, 48, 64, 48]);
  });

  it('reads every stride, drops scores under the threshold and clamps cls and obj to [0, 1]', () => {
    const o = outputs();
    // Stride 32, cell (1, 1) = index 3; cls 1.3 clamps to 1: score sqrt(0.64) = 0.8.
    cell(o, 2, 3, { cls: 1.3, obj: 0.64, bbox: [0, 0, 0, 0] });
    // Stride 16: sqrt(0.3 · 0.9) = 0.52 < 0.6.
    cell(o, 1, 5, { cls: 0.3, obj: 0.9, bbox: [0, 0, 0, 0] });
    const dets = decodeYunet(o, opts);
    expect(dets).toHaveLength(1);
    expect(dets[0]!.score).toBeCloseTo(0.8, 6);
    expectClose(dets[0]!.box, [32, 32, 96, 96]); // centre (32, 32) ± 16, / 0.5
    expect(decodeYunet(o, { ...opts, scoreThreshold: 0.5 })).toHaveLength(2);
  });

  it('suppresses a lower-scored duplicate of the same face (NMS 0.3)', () => {
    const o = outputs();
    cell(o, 0, 19, { cls: 0.81, obj: 1, bbox: [0.5, 0.5, Math.log(2), Math.log(3)] });
    cell(o, 0, 20, { cls: 0.64, obj: 1, bbox: [-0.5, 0.5, Math.log(2), Math.log(3)] });
    const dets = decodeYunet(o, opts);
    expect(dets.map((d) => Number(d.score.toFixed(2)))).toEqual([0.9]);
  });

  it('rejects outputs that do not match the input size', () => {
    const o = outputs();
    expect(() => decodeYunet(o, { ...opts, input: { width: 96, height: 64 } })).toThrow(/cls_8/);
    expect(() => decodeYunet({ ...o, kps: o.kps.slice(0, 2) }, opts)).toThrow(/stride 32/);
  });
});

describe('dynamicInputSize', () => {
  const yunet = getDetectorSpec('yunet-s')!;
  it('runs an image at its own size (times the scale), sides rounded up to multiples of 32', () => {
    expect(dynamicInputSize(yunet, { width: 224, height: 224 })).toEqual({ width: 224, height: 224 });
    expect(dynamicInputSize(yunet, { width: 100, height: 50 })).toEqual({ width: 128, height: 64 });
    expect(dynamicInputSize(yunet, { width: 224, height: 224 }, 2)).toEqual({ width: 448, height: 448 });
    expect(dynamicInputSize(yunet, { width: 10, height: 10 })).toEqual({ width: 32, height: 32 });
  });
  it('caps the longer side at maxSide', () => {
    expect(dynamicInputSize(yunet, { width: 1024, height: 768 }, 3)).toEqual({ width: 2048, height: 1536 });
  });
  it('gives fixed-input models their input size', () => {
    expect(dynamicInputSize(getDetectorSpec('ultraface-rfb320')!, { width: 50, height: 50 }, 2)).toEqual({
      width: 320,
      height: 240,
    });
    expect(() => dynamicInputSize(yunet, { width: 50, height: 50 }, 0)).toThrow(RangeError);
  });
});

/**
 * DETECTION.md: UltraFace-320 and YuNet agree exactly on 8 face photos; faces_06 holds 14 faces
 * (checked by eye). YuNet here runs at each photo's own resolution.
 */
describe.skipIf(!haveDetectionModels)('YuNet on the face photos', () => {
  const images = path.join(detectionDatasetDir, 'images');
  const EASY: Record<string, number> = {
    'faces_02.jpg': 4,
    'faces_03.jpg': 5,
    'faces_05.jpg': 1,
    'faces_06.jpg': 14,
    'faces_09.jpg': 8,
    'faces_13.jpg': 2,
    'faces_19.jpg': 5,
  };
  let yunet: Detector;
  let ultraface: Detector;
  const photos = new Map<string, RawImage>();
  beforeAll(async () => {
    yunet = await openDetector({ id: 'yunet-s', modelsDir });
    ultraface = await openDetector({ id: 'ultraface-rfb320', modelsDir });
    for (const f of (await readdir(images)).filter((n) => n.startsWith('faces_'))) {
      photos.set(f, await decodeImage(path.join(images, f)));
    }
  });
  afterAll(async () => {
    await yunet?.close();
    await ultraface?.close();
  });

  it('finds the faces UltraFace finds, and no more, on the uncrowded photos', async () => {
    for (const [file, count] of Object.entries(EASY)) {
      const image = photos.get(file)!;
      const found = (await yunet.detect(image)).detections;
      expect(found, file).toHaveLength(count);
      const other = (await ultraface.detect(image)).detections;
      for (const f of other)
        expect(
          found.some((d) => iou(d.box, f.box) >= 0.3),
          `${file} ${f.box}`,
        ).toBe(true);
    }
  });

  it('puts the landmarks of every face where a face has them', async () => {
    let faces = 0;
    for (const file of Object.keys(EASY)) {
      for (const d of (await yunet.detect(photos.get(file)!)).detections) {
        faces++;
        expectFaceLandmarks(d);
      }
    }
    expect(faces).toBe(39);
  });

  it('finds crowd faces at scale 2 that scale 1 misses', async () => {
    const crowd = photos.get('faces_17.jpg')!;
    const one = (await yunet.detect(crowd)).detections.length;
    const two = (await yunet.detect(crowd, { scale: 2 })).detections.length;
    // UltraFace-640 finds 146 faces in this photo (DETECTION.md).
    expect(one).toBeGreaterThan(100);
    expect(two).toBeGreaterThan(one * 1.5);
  });
});

/** Eyes above the mouth, the person's right eye on the image's left, all five inside the grown box. */
function expectFaceLandmarks(d: Detection) {
  const [re, le, nose, rm, lm] = d.landmarks! as unknown as [
    [number, number],
    [number, number],
    [number, number],
    [number, number],
    [number, number],
  ];
  const [x1, y1, x2, y2] = d.box;
  const grow = (x2 - x1) * 0.15;
  for (const [x, y] of [re, le, nose, rm, lm]) {
    expect(x).toBeGreaterThanOrEqual(x1 - grow);
    expect(x).toBeLessThanOrEqual(x2 + grow);
    expect(y).toBeGreaterThanOrEqual(y1 - grow);
    expect(y).toBeLessThanOrEqual(y2 + grow);
  }
  expect(re[0]).toBeLessThan(le[0]);
  expect(rm[0]).toBeLessThan(lm[0]);
  expect(Math.max(re[1], le[1])).toBeLessThan(nose[1]);
  expect(nose[1]).toBeLessThan(Math.min(rm[1], lm[1]));
}
