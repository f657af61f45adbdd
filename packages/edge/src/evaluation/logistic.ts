import type { LearnedFeature, LearnedRule } from '@squeezegate/shared';
import { BASE_FEATURES, type EdgeExtras, featureVector } from '../policy/features.ts';

export interface LogisticOptions {
  l2?: number;
  iterations?: number;
  rate?: number;
}

/** A logistic model on standardised inputs: σ(Σ wⱼ·(xⱼ − meanⱼ)/stdⱼ + b). */
export interface LogisticFit {
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
}

/**
 * L2-regularised logistic regression on standardised rows, by full-batch gradient descent
 * (convex, a few hundred frames: plain TypeScript is enough). `target[i]` is 1 where
 * offloading frame i pays: the cloud right, the edge wrong.
 */
export function fitLogistic(
  rows: readonly (readonly number[])[],
  target: readonly boolean[],
  options: LogisticOptions = {},
): LogisticFit {
  const { l2 = 0.01, iterations = 2000, rate = 0.5 } = options;
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]!;
  for (let j = 0; j < d; j++) mean[j]! /= Math.max(1, n);
  const std = mean.map((m, j) => {
    const v = rows.reduce((s, r) => s + (r[j]! - m) ** 2, 0) / Math.max(1, n);
    // A feature constant up to rounding would otherwise get a std of ~1e-16 and blow up.
    const sd = Math.sqrt(v);
    return sd > 1e-9 * Math.max(1, Math.abs(m)) ? sd : 1;
  });
  const z = rows.map((r) => Float64Array.from(r, (x, j) => (x - mean[j]!) / std[j]!));
  const y = target.map((t) => (t ? 1 : 0));
  const weights = new Float64Array(d);
  const grad = new Float64Array(d);
  let bias = 0;
  for (let it = 0; it < iterations; it++) {
    grad.fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const zi = z[i]!;
      let s = bias;
      for (let j = 0; j < d; j++) s += weights[j]! * zi[j]!;
      const err = 1 / (1 + Math.exp(-s)) - y[i]!;
      for (let j = 0; j < d; j++) grad[j]! += err * zi[j]!;
      gb += err;
    }
    for (let j = 0; j < d; j++) weights[j]! -= rate * (grad[j]! / n + l2 * weights[j]!);
    bias -= rate * (gb / n);
  }
  return { mean, std, weights: [...weights], bias };
}

/** σ of a fitted model on one row. */
export function logisticScore(fit: LogisticFit, row: readonly number[]): number {
  let s = fit.bias;
  for (let j = 0; j < fit.weights.length; j++)
    s += fit.weights[j]! * ((row[j]! - fit.mean[j]!) / fit.std[j]!);
  return 1 / (1 + Math.exp(-s));
}

/**
 * Fits the learned deferral rule on named edge features (by default the edge's output alone;
 * `extras[i]` carries frame i's flip and alt passes for the features that read them).
 */
export function fitDeferralRule(
  probs: readonly ArrayLike<number>[],
  target: readonly boolean[],
  options: LogisticOptions & { features?: readonly LearnedFeature[]; extras?: readonly EdgeExtras[] } = {},
): LearnedRule {
  const { features = BASE_FEATURES, extras } = options;
  const rows = probs.map((p, i) => featureVector(features, p, extras?.[i]));
  return { features: [...features], ...fitLogistic(rows, target, options) };
}
