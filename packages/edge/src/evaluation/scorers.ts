import { type ConfidenceMeasure, confidence, eceAt, fitTemperature } from '@squeezegate/shared';
import { deferralScore } from '../policy/learned.ts';
import { fitDeferralRule } from './logistic.ts';
import type { FramePrediction } from './predictions.ts';

/** What orders frames for offloading: a confidence measure or the learned deferral rule. */
export type Scorer = ConfidenceMeasure | 'learned';

/** A scorer fitted on one part of the data, applicable to any frame: lower score = offload first. */
export interface FittedScorer {
  scorer: Scorer;
  score(p: FramePrediction): number;
  /** The policy fragment for a threshold on this score (offload below it). */
  policyFor(threshold: number): Record<string, unknown>;
  temperature?: number;
}

/**
 * Fits a scorer on labelled frames: the temperature for `calibrated`, the logistic rule for
 * `learned` (target: the cloud, through `variant`, right where the edge is wrong).
 */
export function fitScorer(
  scorer: Scorer,
  fitOn: readonly FramePrediction[],
  variant: keyof FramePrediction['cloud'],
): FittedScorer {
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
    case 'learned': {
      const rule = fitDeferralRule(
        fitOn.map((p) => p.edge),
        fitOn.map((p) => p.cloud[variant]!.top1 === p.truth && argmax(p.edge) !== p.truth),
      );
      return {
        scorer,
        // Offload when the deferral score is high: the "confidence" is its complement.
        score: (p) => 1 - deferralScore(rule, p.edge),
        policyFor: (threshold) => ({ kind: 'learned', rule, threshold: 1 - threshold }),
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
