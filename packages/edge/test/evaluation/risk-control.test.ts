import { type CalibrateOptions, calibrate, type FramePrediction } from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../test/support/prng.ts';
import { syntheticPredictions } from './synthetic.ts';

/**
 * A population where the answer is known: the edge's top probability s is uniform on [0.2, 1] and
 * the edge is right with probability s; the cloud is always right. Offloading every frame below t
 * keeps (t − 0.2 + (1 − t²)/2) / 0.8 of cloud-only top-1, and keep:f needs the t* solving it (by
 * bisection below).
 */
function knownPopulation(frames: number, seed: number): FramePrediction[] {
  const random = mulberry32(seed);
  return Array.from({ length: frames }, (_, i) => {
    const s = 0.2 + 0.8 * random();
    const truth = random() < s ? 0 : 1;
    const edge = new Float32Array(10).fill((1 - s) / 9);
    edge[0] = s;
    return {
      name: `k${i}`,
      truth,
      capturedBytes: 1000,
      edge,
      cloud: { captured: { top1: truth, p: 1, bytes: 1000 } } as FramePrediction['cloud'],
    };
  });
}

const keptAt = (t: number) => (t - 0.2 + (1 - t * t) / 2) / 0.8;
/** The smallest threshold keeping `f` in the population (keptAt rises with t). */
function trueThreshold(f: number): number {
  let lo = 0.2;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (keptAt(mid) >= f) hi = mid;
    else lo = mid;
  }
  return hi;
}

const thresholdOf = (options: Partial<CalibrateOptions> & Pick<CalibrateOptions, 'predictions'>) =>
  calibrate({
    target: { kind: 'keep', fraction: 0.95 },
    scorer: 'maxProb',
    variants: ['captured'],
    splits: 0,
    bootstrap: 50,
    ...options,
  }).fragment.policy.threshold as number;

describe('threshold methods on a population with a known answer', () => {
  const big = knownPopulation(20_000, 5);
  const truth = trueThreshold(0.95);

  it('has the answer the formula says', () => {
    // t* ≈ 0.747: offloading a bit over two thirds of [0.2, 1].
    expect(truth).toBeGreaterThan(0.7);
    expect(truth).toBeLessThan(0.8);
    expect(keptAt(truth)).toBeCloseTo(0.95, 9);
  });

  it('ltt: lands just on the safe side of t*, by about its margin', () => {
    const t = thresholdOf({ predictions: big, method: 'ltt', confidence: 0.95 });
    // Safe side: at least t* (up to the grid), and not far over it with 10 000 frames to choose on.
    expect(t).toBeGreaterThan(truth - 0.003);
    expect(t).toBeLessThan(truth + 0.03);
    // A higher confidence asks for a wider margin.
    expect(thresholdOf({ predictions: big, method: 'ltt', confidence: 0.999 })).toBeGreaterThan(t);
  });

  it('crc: the expected-risk choice sits next to t* (no gains to forgo when the cloud is always right)', () => {
    const t = thresholdOf({ predictions: big, method: 'crc' });
    expect(Math.abs(t - truth)).toBeLessThan(0.01);
  });

  it('every method offloads more for a stricter target', () => {
    for (const method of ['ltt', 'bootstrap', 'crc'] as const) {
      const loose = thresholdOf({ predictions: big, method, target: { kind: 'keep', fraction: 0.9 } });
      const strict = thresholdOf({ predictions: big, method, target: { kind: 'keep', fraction: 0.98 } });
      expect(loose, method).toBeLessThan(strict);
      expect(Math.abs(loose - trueThreshold(0.9)), method).toBeLessThan(0.03);
    }
  });
});

describe('the promise over random splits (synthetic, 1000 frames)', () => {
  const predictions = syntheticPredictions({ frames: 1000, seed: 11 });
  const run = (options: Partial<CalibrateOptions>) =>
    calibrate({
      predictions,
      target: { kind: 'keep', fraction: 0.95 },
      scorer: 'maxProb',
      variants: ['captured'],
      splits: 100,
      bootstrap: 50,
      ...options,
    });

  it('ltt at 0.98 (the defaults) holds the target on at least 95 % of held-out halves', () => {
    const r = run({});
    expect(r.method).toBe('ltt');
    expect(r.robustness.metFraction).toBeGreaterThanOrEqual(0.95);
    expect(r.heldOut.met).toBe(true);
  });

  it('ltt at a lower confidence offloads less and still holds on most halves', () => {
    const strict = run({ confidence: 0.99 });
    const loose = run({ confidence: 0.8 });
    expect(loose.robustness.offloadMean).toBeLessThan(strict.robustness.offloadMean);
    expect(loose.robustness.metFraction).toBeGreaterThanOrEqual(0.75);
    expect(strict.robustness.metFraction).toBeGreaterThanOrEqual(0.98);
  });

  it('an offload target: ltt keeps the held-out offload under the cap', () => {
    const r = run({ target: { kind: 'offload', fraction: 0.3 }, confidence: 0.95 });
    expect(r.robustness.metFraction).toBeGreaterThanOrEqual(0.95);
    expect(r.robustness.offloadMean).toBeLessThanOrEqual(0.3);
    expect(r.robustness.offloadMean).toBeGreaterThan(0.2);
  });
});
