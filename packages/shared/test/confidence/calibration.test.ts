import {
  confidence,
  eceAt,
  expectedCalibrationError,
  fitTemperature,
  type LabelledProbs,
  nllAt,
  softmax,
  temper,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../test/support/prng.ts';

/** A standard normal draw (Box–Muller) from a uniform source. */
function gaussian(rng: () => number): number {
  const u = 1 - rng(); // (0, 1], so the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Samples index i with probability p[i]. */
function sample(rng: () => number, p: ArrayLike<number>): number {
  let u = rng();
  for (let i = 0; i < p.length; i++) {
    u -= p[i]!;
    if (u < 0) return i;
  }
  return p.length - 1;
}

describe('expectedCalibrationError', () => {
  it('matches a hand-computed tiny case', () => {
    // 10 bins. Bin 9 holds 0.9, 0.9, 0.9, 0.9 and 1.0 (clamped into the last bin): 3 right,
    // confidences sum to 4.6 → |3 − 4.6| = 1.6. Bin 3 holds 0.3, wrong → |0 − 0.3| = 0.3.
    // ECE = (1.6 + 0.3) / 6.
    const samples = [
      { confidence: 0.9, correct: true },
      { confidence: 0.9, correct: true },
      { confidence: 0.9, correct: false },
      { confidence: 0.9, correct: false },
      { confidence: 1, correct: true },
      { confidence: 0.3, correct: false },
    ];
    expect(expectedCalibrationError(samples, 10)).toBeCloseTo(1.9 / 6, 12);
  });

  it('is 0 for no samples and for a bin whose accuracy equals its confidence', () => {
    expect(expectedCalibrationError([])).toBe(0);
    const half = [
      { confidence: 0.5, correct: true },
      { confidence: 0.5, correct: false },
    ];
    expect(expectedCalibrationError(half, 10)).toBe(0);
  });

  it('is near 0 for calibrated samples and near E[c − c²] = 1/6 for over-confident ones', () => {
    const rng = mulberry32(31);
    const calibrated: { confidence: number; correct: boolean }[] = [];
    const overConfident: { confidence: number; correct: boolean }[] = [];
    for (let i = 0; i < 20_000; i++) {
      const c = rng();
      calibrated.push({ confidence: c, correct: rng() < c });
      // Right only with probability c² while claiming c.
      overConfident.push({ confidence: c, correct: rng() < c * c });
    }
    expect(expectedCalibrationError(calibrated)).toBeLessThan(0.02);
    expect(expectedCalibrationError(overConfident)).toBeCloseTo(1 / 6, 1);
    expect(Math.abs(expectedCalibrationError(overConfident) - 1 / 6)).toBeLessThan(0.01);
  });
});

describe('temper', () => {
  const p = [0.6, 0.3, 0.1];

  it('is the identity at T = 1', () => {
    expect(Array.from(temper(p, 1))).toEqual(Array.from(Float32Array.from(p)));
  });

  it('flattens for T > 1 and sharpens for T < 1, as softmax(log p / T)', () => {
    const flat = temper(p, 2);
    const sharp = temper(p, 0.5);
    // T = 2: √p / Σ√p; T = 0.5: p² / Σp².
    const rootSum = Math.sqrt(0.6) + Math.sqrt(0.3) + Math.sqrt(0.1);
    const squareSum = 0.36 + 0.09 + 0.01;
    expect(flat[0]).toBeCloseTo(Math.sqrt(0.6) / rootSum, 6);
    expect(flat[2]).toBeCloseTo(Math.sqrt(0.1) / rootSum, 6);
    expect(sharp[0]).toBeCloseTo(0.36 / squareSum, 6);
    expect(sharp[2]).toBeCloseTo(0.01 / squareSum, 6);
    expect(flat[0]!).toBeLessThan(0.6);
    expect(sharp[0]!).toBeGreaterThan(0.6);
    // The ranking is kept either way.
    expect(flat[0]! > flat[1]! && flat[1]! > flat[2]!).toBe(true);
    expect(sharp[0]! > sharp[1]! && sharp[1]! > sharp[2]!).toBe(true);
  });

  it('feeds the calibrated measure, which is maxProb at T = 1', () => {
    expect(confidence(p, 'calibrated', { temperature: 1 })).toBeCloseTo(0.6, 6);
    // temper() returns float32, so on a number[] the two agree to float32 precision only.
    expect(confidence(p, 'calibrated')).toBeCloseTo(confidence(p, 'maxProb'), 6);
    const f32 = Float32Array.from(p);
    expect(confidence(f32, 'calibrated')).toBe(confidence(f32, 'maxProb'));
    expect(confidence(p, 'calibrated', { temperature: 2 })).toBeCloseTo(
      Math.sqrt(0.6) / (Math.sqrt(0.6) + Math.sqrt(0.3) + Math.sqrt(0.1)),
      6,
    );
  });
});

describe('fitTemperature', () => {
  /**
   * 2000 ten-class predictions from a model whose logits are 3× the true ones: labels are drawn
   * from softmax(z), the model says softmax(3z), so the ideal temperature is 3.
   */
  function overConfidentSet(seed: number): LabelledProbs[] {
    const rng = mulberry32(seed);
    const set: LabelledProbs[] = [];
    for (let i = 0; i < 2000; i++) {
      const z = Array.from({ length: 10 }, () => gaussian(rng));
      set.push({ probs: softmax(z.map((v) => 3 * v)), truth: sample(rng, softmax(z)) });
    }
    return set;
  }

  it('finds T near 3 for an over-confident model and lowers both NLL and ECE', () => {
    const set = overConfidentSet(41);
    const t = fitTemperature(set);
    expect(t).toBeGreaterThan(1);
    expect(Math.abs(t - 3)).toBeLessThan(0.5);

    const nll1 = nllAt(set, 1);
    const nllT = nllAt(set, t);
    const ece1 = eceAt(set, 1);
    const eceT = eceAt(set, t);
    expect(nllT).toBeLessThan(nll1);
    expect(eceT).toBeLessThan(ece1);
    // Over-confidence by 3× is gross: ECE falls from about a third to a few per cent.
    expect(ece1).toBeGreaterThan(0.25);
    expect(eceT).toBeLessThan(0.05);
    // T is a minimum of the NLL: nudging it either way does not help.
    expect(nllAt(set, t * 1.1)).toBeGreaterThan(nllT);
    expect(nllAt(set, t / 1.1)).toBeGreaterThan(nllT);
  });

  it('keeps T near 1 for an already calibrated model', () => {
    const rng = mulberry32(42);
    const set: LabelledProbs[] = [];
    for (let i = 0; i < 2000; i++) {
      const p = softmax(Array.from({ length: 10 }, () => 2 * gaussian(rng)));
      set.push({ probs: p, truth: sample(rng, p) });
    }
    expect(Math.abs(fitTemperature(set) - 1)).toBeLessThan(0.15);
  });
});
