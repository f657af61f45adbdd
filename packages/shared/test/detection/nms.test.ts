import { type Box, type Detection, iou, nms } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const det = (box: Box, score: number, classIndex = 0): Detection => ({
  box,
  score,
  classIndex,
  label: `c${classIndex}`,
});

describe('iou', () => {
  it('is 1 for identical boxes and 0 for disjoint or touching ones', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(iou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0);
  });

  it('computes intersection over union', () => {
    // 10×10 boxes offset by 5 in x: inter 50, union 150.
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3, 12);
    // A 4×4 box inside a 10×10 one: 16 / 100.
    expect(iou([0, 0, 10, 10], [3, 3, 7, 7])).toBeCloseTo(0.16, 12);
    expect(iou([3, 3, 7, 7], [0, 0, 10, 10])).toBeCloseTo(0.16, 12);
  });

  it('is 0 when a box has no area', () => {
    expect(iou([5, 5, 5, 5], [0, 0, 10, 10])).toBe(0);
    expect(iou([0, 0, 0, 0], [0, 0, 0, 0])).toBe(0);
  });
});

describe('nms', () => {
  it('keeps the best of overlapping boxes of one class and sorts by score', () => {
    const a = det([0, 0, 10, 10], 0.6);
    const b = det([1, 0, 11, 10], 0.9); // IoU with a = 90/110 ≈ 0.82
    const c = det([50, 50, 60, 60], 0.7);
    expect(nms([a, b, c], { iou: 0.5 })).toEqual([b, c]);
  });

  it('is class-aware by default and class-agnostic on request', () => {
    const car = det([0, 0, 10, 10], 0.9, 0);
    const truck = det([0, 0, 10, 10], 0.8, 1);
    expect(nms([car, truck], { iou: 0.5 })).toEqual([car, truck]);
    expect(nms([car, truck], { iou: 0.5, classAware: true })).toEqual([car, truck]);
    expect(nms([car, truck], { iou: 0.5, classAware: false })).toEqual([car]);
  });

  it('suppresses greedily in score order: a suppressed box suppresses nothing', () => {
    // a overlaps b, b overlaps c, a barely touches c.
    const a = det([0, 0, 10, 10], 0.9);
    const b = det([4, 0, 14, 10], 0.8); // IoU(a, b) = 60/140 ≈ 0.43
    const c = det([8, 0, 18, 10], 0.7); // IoU(b, c) ≈ 0.43, IoU(a, c) = 20/180 ≈ 0.11
    expect(nms([c, b, a], { iou: 0.4 })).toEqual([a, c]);
    // With the scores reversed, b is visited second and survives neither way.
    const a2 = { ...a, score: 0.7 };
    const c2 = { ...c, score: 0.9 };
    expect(nms([a2, b, c2], { iou: 0.4 })).toEqual([c2, a2]);
  });

  it('suppresses only above the threshold', () => {
    const a = det([0, 0, 10, 10], 0.9);
    const b = det([5, 0, 15, 10], 0.8); // IoU exactly 1/3
    expect(nms([a, b], { iou: 1 / 3 })).toEqual([a, b]);
    expect(nms([a, b], { iou: 0.33 })).toEqual([a]);
  });

  it('stops at maxDetections, keeping the best', () => {
    const dets = [0.1, 0.5, 0.9, 0.3, 0.7].map((s, i) => det([i * 20, 0, i * 20 + 10, 10], s));
    expect(nms(dets, { iou: 0.5, maxDetections: 2 }).map((d) => d.score)).toEqual([0.9, 0.7]);
    expect(nms(dets, { iou: 0.5 }).map((d) => d.score)).toEqual([0.9, 0.7, 0.5, 0.3, 0.1]);
  });

  it('keeps input order among equal scores and leaves the input untouched', () => {
    const a = det([0, 0, 10, 10], 0.5, 0);
    const b = det([0, 0, 10, 10], 0.5, 1);
    const input = [b, a];
    expect(nms(input, { iou: 0.5 })).toEqual([b, a]);
    expect(input).toEqual([b, a]);
    expect(nms([], { iou: 0.5 })).toEqual([]);
  });
});
