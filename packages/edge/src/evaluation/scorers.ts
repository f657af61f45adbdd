import {
  type ConfidenceMeasure,
  confidence,
  eceAt,
  fitTemperature,
  type LearnedRule,
} from '@squeezegate/shared';
import { BASE_FEATURES, type EdgeExtras, edgeFeatures } from '../policy/features.ts';
import { deferralScore } from '../policy/learned.ts';
import type { SignalledPrediction } from './edge-signals.ts';
import { fitDeferralRule, fitLogistic, logisticScore } from './logistic.ts';
import type { FramePrediction } from './predictions.ts';

/**
 * Scorers that read edge signals beyond the edge's output (issue 16 §2): `flip` and `alt` are
 * the mean of the edge's top-1 probability and that pass's probability of the same class,
 * `flip+alt` of all three (unfitted); `learned+…` add those passes' features to the learned
 * rule; `learned+agree` is the rule on [p1, margin, flipAgree, altAgree, altP1] alone;
 * `learned+pooled` adds the edge's pooled activations (evaluation only: no policy reads them).
 */
export const SIGNAL_SCORERS = [
  'flip',
  'alt',
  'flip+alt',
  'learned+flip',
  'learned+alt',
  'learned+flip+alt',
  'learned+agree',
  'learned+pooled',
] as const;
export type SignalScorer = (typeof SIGNAL_SCORERS)[number];

/** What orders frames for offloading: a confidence measure, the learned rule, or a signal. */
export type Scorer = ConfidenceMeasure | 'learned' | SignalScorer;

/** A scorer fitted on one part of the data, applicable to any frame: lower score = offload first. */
export interface FittedScorer {
  scorer: Scorer;
  score(p: FramePrediction): number;
  /** The policy fragment for a threshold on this score (offload below it). */
  policyFor(threshold: number): Record<string, unknown>;
  temperature?: number;
}

/** A scorer that reads signals was given frames without them (see predictDatasetWithSignals). */
export class SignalsMissingError extends Error {
  override readonly name = 'SignalsMissingError';
}

const extrasOf = (p: FramePrediction): EdgeExtras => {
  const s = (p as Partial<SignalledPrediction>).signals;
  if (!s) throw new SignalsMissingError(`frame ${p.name} has no edge signals`);
  return s;
};

const pooledOf = (p: FramePrediction): Float32Array => {
  const pooled = (p as Partial<SignalledPrediction>).signals?.pooled;
  if (!pooled) throw new SignalsMissingError(`frame ${p.name} has no pooled activations (pooled: true)`);
  return pooled;
};

// `flip`/`alt` as fixed rules: σ(−(p1 + pass's p of the edge's top-1)), so that they ship as
// `learned` policies exactly as scored here.
const fixedRule = (passes: readonly ('flipP' | 'altP')[]): LearnedRule => ({
  features: ['p1', ...passes],
  mean: passes.map(() => 0).concat(0),
  std: passes.map(() => 1).concat(1),
  weights: passes.map(() => -1).concat(-1),
  bias: 0,
});

/** Pooled activations have ~500 dimensions for ~500 frames: a stronger L2, fixed beforehand. */
const POOLED_L2 = 0.05;

/**
 * Fits a scorer on labelled frames: the temperature for `calibrated`, the logistic rule for
 * `learned…` (target: the cloud, through `variant`, right where the edge is wrong).
 */
export function fitScorer(
  scorer: Scorer,
  fitOn: readonly FramePrediction[],
  variant: keyof FramePrediction['cloud'],
): FittedScorer {
  const target = () => fitOn.map((p) => p.cloud[variant]!.top1 === p.truth && argmax(p.edge) !== p.truth);
  const asRule = (rule: LearnedRule, needsExtras: boolean): FittedScorer => ({
    scorer,
    // Offload when the deferral score is high: the "confidence" is its complement.
    score: (p) => 1 - deferralScore(rule, p.edge, needsExtras ? extrasOf(p) : {}),
    policyFor: (threshold) => ({ kind: 'learned', rule, threshold: 1 - threshold }),
  });
  switch (scorer) {
    case 'maxProb':
    case 'margin':
    case 'entropy':
      return {
        scorer,
        score: (p) => confidence(p.edge, scorer),
        policyFor: (threshold) => ({ kind: 'threshold', measure: scorer, threshold, temperature: 1 }),
      };
    case 'calibrated': {
      const temperature = fitTemperature(fitOn.map((p) => ({ probs: p.edge, truth: p.truth! })));
      return {
        scorer,
        temperature,
        score: (p) => confidence(p.edge, 'calibrated', { temperature }),
        policyFor: (threshold) => ({ kind: 'threshold', measure: 'calibrated', threshold, temperature }),
      };
    }
    case 'learned':
      return asRule(
        fitDeferralRule(
          fitOn.map((p) => p.edge),
          target(),
        ),
        false,
      );
    case 'flip':
      return asRule(fixedRule(['flipP']), true);
    case 'alt':
      return asRule(fixedRule(['altP']), true);
    case 'flip+alt':
      return asRule(fixedRule(['flipP', 'altP']), true);
    case 'learned+agree':
      return asRule(
        fitDeferralRule(
          fitOn.map((p) => p.edge),
          target(),
          { features: ['p1', 'margin', 'flipAgree', 'altAgree', 'altP1'], extras: fitOn.map(extrasOf) },
        ),
        true,
      );
    case 'learned+flip':
    case 'learned+alt':
    case 'learned+flip+alt': {
      const features = [
        ...BASE_FEATURES,
        ...(scorer.includes('flip') ? (['flipAgree', 'flipP'] as const) : []),
        ...(scorer.includes('alt') ? (['altAgree', 'altP', 'altP1'] as const) : []),
      ];
      const rule = fitDeferralRule(
        fitOn.map((p) => p.edge),
        target(),
        { features, extras: fitOn.map(extrasOf) },
      );
      return asRule(rule, true);
    }
    case 'learned+pooled': {
      const row = (p: FramePrediction) => {
        const f = edgeFeatures(p.edge);
        return [...BASE_FEATURES.map((k) => f[k]), ...pooledOf(p)];
      };
      const fit = fitLogistic(fitOn.map(row), target(), { l2: POOLED_L2 });
      return {
        scorer,
        score: (p) => 1 - logisticScore(fit, row(p)),
        policyFor: () => {
          throw new SignalsMissingError(
            'learned+pooled is evaluation-only: no policy reads pooled activations',
          );
        },
      };
    }
  }
}

export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}

/** ECE of the edge's top-1 probability on a set, before and after a temperature. */
export function calibrationError(set: readonly FramePrediction[], temperature: number) {
  const samples = set.map((p) => ({ probs: p.edge, truth: p.truth! }));
  return { before: eceAt(samples, 1), after: eceAt(samples, temperature) };
}
