import { LEARNED_FEATURES, type LearnedFeature, topK } from '@squeezegate/shared';

/**
 * What a frame offers the learned rule beyond the edge's output: the edge model's
 * probabilities on the mirrored view (`flip`) and a second edge model's on the frame (`alt`).
 */
export interface EdgeExtras {
  flip?: ArrayLike<number>;
  alt?: ArrayLike<number>;
}

/** Which extra passes a feature set needs. */
export interface ExtraNeeds {
  flip: boolean;
  alt: boolean;
}

export const FLIP_FEATURES: readonly LearnedFeature[] = ['flipAgree', 'flipP'];
export const ALT_FEATURES: readonly LearnedFeature[] = ['altAgree', 'altP', 'altP1'];
/** The features of the edge's output alone (the learned rule's default). */
export const BASE_FEATURES: readonly LearnedFeature[] = LEARNED_FEATURES;

export const extrasNeeded = (features: readonly LearnedFeature[]): ExtraNeeds => ({
  flip: features.some((f) => FLIP_FEATURES.includes(f)),
  alt: features.some((f) => ALT_FEATURES.includes(f)),
});

/** Thrown when a rule reads a feature whose extra pass was not run. */
export class MissingExtraError extends Error {
  override readonly name = 'MissingExtraError';
}

/**
 * Features of the edge's output (and of the extra passes, when given) that the learned
 * deferral rule reads. Features of an absent pass are NaN, so a rule that reads one is caught
 * by `featureVector`, never scored on garbage.
 */
export function edgeFeatures(
  probs: ArrayLike<number>,
  extras: EdgeExtras = {},
): Record<LearnedFeature, number> {
  const top = topK(probs, 5);
  const p = (i: number) => top[i]?.p ?? 0;
  let h = 0;
  for (let i = 0; i < probs.length; i++) {
    const v = probs[i]!;
    if (v > 0) h -= v * Math.log(v);
  }
  const a = top[0]?.index ?? 0;
  const agree = (q: ArrayLike<number> | undefined) => (q ? (topK(q, 1)[0]?.index === a ? 1 : 0) : Number.NaN);
  const at = (q: ArrayLike<number> | undefined) => (q ? q[a]! : Number.NaN);
  return {
    p1: p(0),
    p2: p(1),
    p3: p(2),
    margin: p(0) - p(1),
    entropy: probs.length > 1 ? h / Math.log(probs.length) : 0,
    logP1: Math.log(Math.max(p(0), 1e-9)),
    top5: top.reduce((s, t) => s + t.p, 0),
    flipAgree: agree(extras.flip),
    flipP: at(extras.flip),
    altAgree: agree(extras.alt),
    altP: at(extras.alt),
    altP1: extras.alt ? (topK(extras.alt, 1)[0]?.p ?? 0) : Number.NaN,
  };
}

/** The values of `features` for one frame, in order; a feature of a pass not run throws. */
export function featureVector(
  features: readonly LearnedFeature[],
  probs: ArrayLike<number>,
  extras: EdgeExtras = {},
): number[] {
  const all = edgeFeatures(probs, extras);
  return features.map((f) => {
    const v = all[f];
    if (Number.isNaN(v))
      throw new MissingExtraError(`feature ${f} needs an extra edge pass that did not run`);
    return v;
  });
}

export const FEATURE_NAMES: readonly LearnedFeature[] = [
  ...LEARNED_FEATURES,
  ...FLIP_FEATURES,
  ...ALT_FEATURES,
];
