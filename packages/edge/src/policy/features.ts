import { LEARNED_FEATURES, type LearnedFeature, topK } from '@squeezegate/shared';

/** Features of the edge's output that the learned deferral rule reads. */
export function edgeFeatures(probs: ArrayLike<number>): Record<LearnedFeature, number> {
  const top = topK(probs, 5);
  const p = (i: number) => top[i]?.p ?? 0;
  let h = 0;
  for (let i = 0; i < probs.length; i++) {
    const v = probs[i]!;
    if (v > 0) h -= v * Math.log(v);
  }
  return {
    p1: p(0),
    p2: p(1),
    p3: p(2),
    margin: p(0) - p(1),
    entropy: probs.length > 1 ? h / Math.log(probs.length) : 0,
    logP1: Math.log(Math.max(p(0), 1e-9)),
    top5: top.reduce((s, t) => s + t.p, 0),
  };
}

export const FEATURE_NAMES = LEARNED_FEATURES;
