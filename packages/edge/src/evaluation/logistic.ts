import { LEARNED_FEATURES, type LearnedFeature, type LearnedRule } from '@squeezegate/shared';
import { edgeFeatures } from '../policy/features.ts';

/**
 * Fits the learned deferral rule: L2-regularised logistic regression on standardised edge
 * features, by full-batch gradient descent (convex, a few hundred frames: plain TypeScript is
 * enough). `target[i]` is 1 where offloading frame i pays: the cloud right, the edge wrong.
 */
export function fitDeferralRule(
  probs: readonly ArrayLike<number>[],
  target: readonly boolean[],
  options: { features?: readonly LearnedFeature[]; l2?: number; iterations?: number; rate?: number } = {},
): LearnedRule {
  const { features = LEARNED_FEATURES, l2 = 0.01, iterations = 2000, rate = 0.5 } = options;
  const rows = probs.map((p) => {
    const f = edgeFeatures(p);
    return features.map((k) => f[k]);
  });
  const n = rows.length;
  const d = features.length;
  const mean = features.map((_, j) => rows.reduce((s, r) => s + r[j]!, 0) / Math.max(1, n));
  const std = features.map((_, j) => {
    const v = rows.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / Math.max(1, n);
    // A feature constant up to rounding would otherwise get a std of ~1e-16 and blow up.
    const sd = Math.sqrt(v);
    return sd > 1e-9 * Math.max(1, Math.abs(mean[j]!)) ? sd : 1;
  });
  const z = rows.map((r) => r.map((x, j) => (x - mean[j]!) / std[j]!));
  const weights = new Array<number>(d).fill(0);
  let bias = 0;
  for (let it = 0; it < iterations; it++) {
    const grad = new Array<number>(d).fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      let s = bias;
      for (let j = 0; j < d; j++) s += weights[j]! * z[i]![j]!;
      const err = 1 / (1 + Math.exp(-s)) - (target[i] ? 1 : 0);
      for (let j = 0; j < d; j++) grad[j]! += err * z[i]![j]!;
      gb += err;
    }
    for (let j = 0; j < d; j++) weights[j]! -= rate * (grad[j]! / n + l2 * weights[j]!);
    bias -= rate * (gb / n);
  }
  return { features: [...features], mean, std, weights, bias };
}
