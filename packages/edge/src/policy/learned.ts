import type { LearnedRule } from '@squeezegate/shared';
import { edgeFeatures } from './features.ts';

/**
 * The learned rule's score for one frame: the predicted probability that the cloud is right
 * where the edge is wrong, σ(Σ wᵢ·(xᵢ − meanᵢ)/stdᵢ + b).
 */
export function deferralScore(rule: LearnedRule, probs: ArrayLike<number>): number {
  const x = edgeFeatures(probs);
  let z = rule.bias;
  rule.features.forEach((f, i) => {
    z += rule.weights[i]! * ((x[f] - rule.mean[i]!) / rule.std[i]!);
  });
  return 1 / (1 + Math.exp(-z));
}
