import { CONFIDENCE_MEASURES, confidence, confidences, softmax, topK } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const sum = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0);

describe('softmax', () => {
  it('returns probabilities that sum to 1, ordered like the logits', () => {
    const p = softmax([1, 2, 3, 0.5]);
    expect(p).toBeInstanceOf(Float32Array);
    expect(sum(p)).toBeCloseTo(1, 6);
    // exp(1)/Σ, by hand
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(0.5);
    expect(p[0]).toBeCloseTo(Math.exp(1) / z, 6);
    expect(p[2]).toBeCloseTo(Math.exp(3) / z, 6);
    expect(p[2]! > p[1]! && p[1]! > p[0]! && p[0]! > p[3]!).toBe(true);
  });

  it('is shift invariant and stays finite for huge logits', () => {
    const small = softmax([0, 1, 2]);
    const big = softmax([1000, 1001, 1002]);
    const negative = softmax([-1000, -999, -998]);
    for (const p of [big, negative]) {
      expect(Array.from(p).every(Number.isFinite)).toBe(true);
      expect(sum(p)).toBeCloseTo(1, 6);
      for (let i = 0; i < 3; i++) expect(p[i]).toBeCloseTo(small[i]!, 6);
    }
    expect(Array.from(softmax([1e4, 1e4]))).toEqual([0.5, 0.5]);
  });

  it('gives a uniform distribution for equal logits', () => {
    const p = softmax(new Float32Array(1000).fill(3.7));
    expect(p[0]).toBeCloseTo(0.001, 7);
    expect(p[999]).toBeCloseTo(0.001, 7);
  });
});

describe('topK', () => {
  const probs = [0.05, 0.4, 0.1, 0.3, 0.15];

  it('returns the k best, best first', () => {
    expect(topK(probs, 3)).toEqual([
      { index: 1, p: 0.4 },
      { index: 3, p: 0.3 },
      { index: 4, p: 0.15 },
    ]);
    expect(topK(probs, 1)).toEqual([{ index: 1, p: 0.4 }]);
  });

  it('returns everything, sorted, when k exceeds the length', () => {
    expect(topK(probs, 10).map((r) => r.index)).toEqual([1, 3, 4, 2, 0]);
  });

  it('keeps the earlier index first on ties', () => {
    expect(topK([0.1, 0.5, 0.2, 0.2], 3)).toEqual([
      { index: 1, p: 0.5 },
      { index: 2, p: 0.2 },
      { index: 3, p: 0.2 },
    ]);
  });

  it('agrees with a full sort on a long vector', () => {
    const p = softmax(Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 5));
    const sorted = Array.from(p, (v, index) => ({ index, p: v })).sort((a, b) => b.p - a.p);
    expect(topK(p, 5)).toEqual(sorted.slice(0, 5));
  });
});

describe('confidence', () => {
  it('lists the four measures', () => {
    expect(CONFIDENCE_MEASURES).toEqual(['maxProb', 'margin', 'entropy', 'calibrated']);
  });

  it('measures a hand-made vector', () => {
    const p = [0.2, 0.7, 0.1];
    expect(confidence(p, 'maxProb')).toBeCloseTo(0.7, 12);
    expect(confidence(p, 'margin')).toBeCloseTo(0.5, 12);
    const h = -(0.2 * Math.log(0.2) + 0.7 * Math.log(0.7) + 0.1 * Math.log(0.1));
    expect(confidence(p, 'entropy')).toBeCloseTo(1 - h / Math.log(3), 12);
    expect(confidence(p, 'entropy')).toBeCloseTo(0.27016, 4);
  });

  it('is 0 on a uniform vector (except maxProb = 1/K) and 1 on a one-hot vector', () => {
    const uniform = new Array(4).fill(0.25);
    expect(confidences(uniform)).toEqual({
      maxProb: 0.25,
      margin: 0,
      entropy: expect.closeTo(0, 12),
      calibrated: expect.closeTo(0.25, 6),
    });
    const oneHot = [0, 0, 1, 0];
    expect(confidences(oneHot)).toEqual({ maxProb: 1, margin: 1, entropy: 1, calibrated: 1 });
  });

  it('ranks a peaked distribution above a flat one on every measure', () => {
    const peaked = softmax([8, 1, 0, 0]);
    const flat = softmax([1, 0.9, 0.8, 0.7]);
    for (const m of CONFIDENCE_MEASURES) {
      const a = confidence(peaked, m);
      const b = confidence(flat, m);
      expect(a, m).toBeGreaterThan(b);
      expect(a, m).toBeLessThanOrEqual(1);
      expect(b, m).toBeGreaterThanOrEqual(0);
    }
  });

  it('treats a single class as certain', () => {
    expect(confidences([1])).toEqual({ maxProb: 1, margin: 1, entropy: 1, calibrated: 1 });
  });
});
