import {
  averagePrecision,
  type Box,
  type Detection,
  evaluateDetections,
  GroundTruthSchema,
  type ImageEvaluation,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const pred = (label: string, box: Box, score: number): Detection => ({ label, box, score, classIndex: 0 });
const gt = (cls: string, box: [number, number, number, number], ignore = false) => ({
  class: cls,
  box,
  ignore,
});

// A hand-made case, with every prediction's fate worked out by hand.
const images: ImageEvaluation[] = [
  {
    truth: {
      annotated_classes: ['car', 'person'],
      boxes: [
        gt('car', [0, 0, 10, 10]),
        gt('car', [100, 100, 110, 110], true), // e.g. too small: ignored
        gt('person', [50, 0, 60, 20]),
        gt('dontcare', [200, 0, 260, 20], true),
      ],
    },
    detections: [
      pred('truck', [0, 0, 10, 10], 0.95), // class not annotated here: not scored
      pred('car', [0, 0, 10, 10], 0.9), // TP
      pred('car', [1, 0, 11, 10], 0.8), // duplicate of a matched car: FP
      pred('car', [100, 100, 110, 110], 0.7), // on an ignored car: neither
      pred('person', [50, 0, 60, 8], 0.6), // IoU 0.4 with the person: FP
      pred('pedestrian', [50, 0, 60, 20], 0.5), // TP once mapped to person, else not scored
      pred('car', [200, 0, 260, 20], 0.4), // in a DontCare region (another class): neither
    ],
  },
  {
    truth: { annotated_classes: 'all-coco80', boxes: [gt('dog', [0, 0, 100, 100])] },
    detections: [
      pred('dog', [0, 0, 100, 100], 0.3), // TP
      pred('zebra', [300, 300, 400, 400], 0.85), // every class is scored: FP
    ],
  },
  {
    // A labelled frame with nothing in it.
    truth: { annotated_classes: ['car'], boxes: [] },
    detections: [pred('car', [0, 0, 5, 5], 0.2)], // FP
  },
];

describe('evaluateDetections', () => {
  it('matches greedily within class and skips ignored regions and unannotated classes', () => {
    // Ranked: 0.9 TP, 0.85 FP, 0.8 FP, 0.6 FP, 0.5 TP, 0.3 TP, 0.2 FP; 3 ground-truth boxes.
    // AP: recall 1/3 at precision 1, then 2/3 and 1 under an envelope of 0.5 → 1/3 + 1/6 + 1/6.
    const m = evaluateDetections(images, { classMap: { pedestrian: 'person' } });
    expect(m).toMatchObject({ tp: 3, fp: 4, fn: 0 });
    expect(m.precision).toBeCloseTo(3 / 7, 12);
    expect(m.recall).toBe(1);
    expect(m.ap50).toBeCloseTo(2 / 3, 12);
  });

  it('does not score a class that maps to nothing annotated', () => {
    // Without the mapping the pedestrian is not scored: 0.9 T, 0.85 F, 0.8 F, 0.6 F, 0.3 T, 0.2 F.
    const m = evaluateDetections(images);
    expect(m).toMatchObject({ tp: 2, fp: 4, fn: 1 });
    expect(m.precision).toBeCloseTo(1 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.ap50).toBeCloseTo(1 / 3 + (1 / 3) * 0.4, 12);
  });

  it('counts P/R at the operating point but ranks every prediction for AP', () => {
    const m = evaluateDetections(images, { classMap: { pedestrian: 'person' }, scoreThreshold: 0.55 });
    expect(m).toMatchObject({ tp: 1, fp: 3, fn: 2, precision: 0.25 });
    expect(m.recall).toBeCloseTo(1 / 3, 12);
    expect(m.ap50).toBeCloseTo(2 / 3, 12);
  });

  it('takes the IoU threshold as an option', () => {
    // At IoU 0.3 the loose person box (IoU 0.4) matches: 0.9 T, 0.85 F, 0.8 F, 0.6 T, 0.3 T, 0.2 F.
    const m = evaluateDetections(images, { iou: 0.3 });
    expect(m).toMatchObject({ tp: 3, fp: 3, fn: 0, precision: 0.5, recall: 1 });
  });

  it('gives zeros, not NaN, with nothing to score', () => {
    expect(evaluateDetections([])).toEqual({ tp: 0, fp: 0, fn: 0, precision: 0, recall: 0, ap50: 0 });
  });
});

describe('averagePrecision', () => {
  it('integrates the interpolated precision envelope over recall', () => {
    const hit = (score: number, tp: boolean) => ({ score, tp });
    // T F T of 3: precision 1, 1/2, 2/3 → envelope 1, 2/3, 2/3 → 1/3 · 1 + 1/3 · 2/3.
    expect(averagePrecision([hit(0.9, true), hit(0.8, false), hit(0.7, true)], 3)).toBeCloseTo(5 / 9, 12);
    // Order comes from the scores, not the array.
    expect(averagePrecision([hit(0.7, true), hit(0.8, false), hit(0.9, true)], 3)).toBeCloseTo(5 / 9, 12);
    expect(averagePrecision([hit(0.9, true), hit(0.8, true)], 2)).toBe(1);
    expect(averagePrecision([hit(0.9, false)], 0)).toBe(0);
  });
});

describe('GroundTruthSchema', () => {
  const image = {
    file: 'kitti_000001.jpg',
    width: 1242,
    height: 375,
    set: 'kitti',
    annotated_classes: ['car'],
    boxes: [{ class: 'car', box: [1, 2, 3, 4], ignore: false, orig_class: 'Car', truncated: 0, occluded: 0 }],
  };

  it('accepts the labels.json shape', () => {
    const parsed = GroundTruthSchema.parse({
      format: 'x',
      images: [image, { ...image, annotated_classes: 'all-coco80' }],
    });
    expect(parsed.images[0]!.boxes[0]!.box).toEqual([1, 2, 3, 4]);
  });

  it('rejects malformed boxes and unknown fields', () => {
    const bad = { ...image, boxes: [{ class: 'car', box: [1, 2, 3], ignore: false }] };
    expect(GroundTruthSchema.safeParse({ images: [bad] }).success).toBe(false);
    expect(GroundTruthSchema.safeParse({ images: [{ ...image, annotated_classes: 'all' }] }).success).toBe(
      false,
    );
    expect(GroundTruthSchema.safeParse({ images: [{ ...image, extra: 1 }] }).success).toBe(false);
  });
});
