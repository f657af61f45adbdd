import type { LearnedRule } from '@squeezegate/shared';
import { type EdgeExtras, featureVector } from './features.ts';

/**
 * The learned rule's score for one frame: the predicted probability that the cloud is right
 * where the edge is wrong, σ(Σ wᵢ·(xᵢ − meanᵢ)/stdᵢ + b). `extras` carries the flip and alt
 * passes when the rule reads their features.
 */
export function deferralScore(rule: LearnedRule, probs: ArrayLike<number>, extras: EdgeExtras = {}): number {
  const x = featureVector(rule.features, probs, extras);
  let z = rule.bias;
  rule.features.forEach((_, i) => {
    z += rule.weights[i]! * ((x[i]! - rule.mean[i]!) / rule.std[i]!);
  });
  return 1 / (1 + Math.exp(-z));
}
