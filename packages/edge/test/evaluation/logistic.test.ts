import { deferralScore, edgeFeatures, fitDeferralRule } from '@squeezegate/edge';
import { LEARNED_FEATURES, type LearnedRule, LearnedRuleSchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../test/support/prng.ts';

const CLASSES = 10;

/**
 * `n` probability vectors with top probability p1 uniform on [0.25, 0.95]. Every other class
 * holds at most 1.5/(1.5 + 8·0.5) ≈ 0.27 of 1 − p1 ≤ 0.75, i.e. ≤ 0.21 < p1: p1 stays the top.
 */
function vectors(n: number, seed: number): { probs: number[]; p1: number }[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const p1 = 0.25 + 0.7 * random();
    const rest = Array.from({ length: CLASSES - 1 }, () => 0.5 + random());
    const sum = rest.reduce((s, x) => s + x, 0);
    const top = Math.floor(random() * CLASSES);
    let j = 0;
    const probs = Array.from({ length: CLASSES }, (_, c) => (c === top ? p1 : ((1 - p1) * rest[j++]!) / sum));
    return { probs, p1 };
  });
}

// The frame "should go" exactly when the edge's top probability is below 0.4.
const fit = vectors(400, 5);
const fitTarget = fit.map((v) => v.p1 < 0.4);
const test = vectors(400, 6);

/** Share of held-out frames on each side of 0.5 as they should be. */
function sides(rule: LearnedRule) {
  const goes = test.filter((v) => v.p1 < 0.4);
  const stays = test.filter((v) => v.p1 >= 0.4);
  return {
    goes: goes.filter((v) => deferralScore(rule, v.probs) > 0.5).length / goes.length,
    stays: stays.filter((v) => deferralScore(rule, v.probs) < 0.5).length / stays.length,
  };
}

describe('fitDeferralRule', () => {
  it('the generator puts the boundary inside the data on both sides', () => {
    const share = fitTarget.filter(Boolean).length / fit.length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.3);
    fit.forEach((v) => {
      expect(edgeFeatures(v.probs).p1).toBe(v.p1);
    });
  });

  it('separates the targets on held-out vectors with every feature', () => {
    const rule = fitDeferralRule(
      fit.map((v) => v.probs),
      fitTarget,
    );
    expect(LearnedRuleSchema.safeParse(rule).success).toBe(true);
    expect(rule.features).toEqual([...LEARNED_FEATURES]);
    const { goes, stays } = sides(rule);
    expect(goes).toBeGreaterThanOrEqual(0.9);
    expect(stays).toBeGreaterThanOrEqual(0.9);
    // A less sure edge (lower p1) makes offloading more attractive.
    expect(rule.weights[rule.features.indexOf('p1')]!).toBeLessThan(0);
  });

  it('on p1 alone: a negative weight and the decision boundary near 0.4', () => {
    const rule = fitDeferralRule(
      fit.map((v) => v.probs),
      fitTarget,
      { features: ['p1'] },
    );
    expect(rule.features).toEqual(['p1']);
    const mean = fit.reduce((s, v) => s + v.p1, 0) / fit.length;
    const std = Math.sqrt(fit.reduce((s, v) => s + (v.p1 - mean) ** 2, 0) / fit.length);
    expect(rule.mean[0]!).toBeCloseTo(mean, 12);
    expect(rule.std[0]!).toBeCloseTo(std, 12);
    expect(rule.weights[0]!).toBeLessThan(0);
    // σ(w·(p1 − mean)/std + b) = 0.5 where p1 = mean − b·std/w.
    const boundary = mean - (rule.bias * std) / rule.weights[0]!;
    expect(boundary).toBeGreaterThan(0.37);
    expect(boundary).toBeLessThan(0.43);
    const { goes, stays } = sides(rule);
    expect(goes).toBeGreaterThanOrEqual(0.95);
    expect(stays).toBeGreaterThanOrEqual(0.95);
  });

  it('standardises a constant feature with std 1 instead of dividing by zero', () => {
    // 0.5 and 0.25 are exact in binary, so the mean is exact and the variance exactly 0.
    const same = Array.from({ length: 10 }, () => [0.5, 0.25, 0.25]);
    const rule = fitDeferralRule(
      same,
      same.map((_, i) => i < 3),
      { features: ['p1', 'margin'] },
    );
    expect(rule.std).toEqual([1, 1]);
    expect(rule.mean).toEqual([0.5, 0.25]);
    expect(rule.weights).toEqual([0, 0]);
    // Nothing tells the frames apart: the rule learns the base rate, 3 in 10.
    expect(deferralScore(rule, [0.5, 0.25, 0.25])).toBeCloseTo(0.3, 3);
  });

  // Known bug (logistic.ts, `Math.sqrt(v) || 1`): a feature constant up to rounding (0.7 ten
  // times does not average to exactly 0.7) gets std ≈ 1e-16 instead of 1, so in use a difference
  // of 1e-6 in that feature swings the score to 0 or 1. Turn into `it` once the guard is relative.
  it('standardises a feature constant up to rounding with std 1 too', () => {
    const same = Array.from({ length: 10 }, () => [0.7, 0.2, 0.1]);
    const rule = fitDeferralRule(
      same,
      same.map((_, i) => i < 3),
      { features: ['p1'] },
    );
    expect(rule.std).toEqual([1]);
    expect(deferralScore(rule, [0.700001, 0.199999, 0.1])).toBeCloseTo(0.3, 2);
  });
});
