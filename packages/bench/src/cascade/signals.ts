import {
  argmax,
  type CloudVariant,
  curveByScore,
  type FramePrediction,
  fitScorer,
  minOffloadFor,
  type Outcome,
  type Scorer,
  SIGNAL_SCORERS,
  type SignalCost,
  type SignalledPrediction,
  seededRandom,
  shuffled,
} from '@squeezegate/edge';
import { bootstrapMinOffload, type MinOffloadSpread } from './signal-bootstrap.ts';

/** The payloads the signal scorers are swept on: as captured, and the default-candidate WebP crop. */
export const SIGNAL_VARIANTS: readonly CloudVariant[] = ['captured', 'crop-webp-q80'];

/** The two cross-fitting folds of a set of n frames, fixed by the seed (shared with `analyse`). */
export function twoFolds(n: number, seed = 7): readonly [number[], number[]] {
  const order = shuffled([...Array(n).keys()], seededRandom(seed));
  return [order.filter((_, i) => i % 2 === 0), order.filter((_, i) => i % 2 === 1)];
}

/** Scores of every frame, each by a scorer fitted on the other fold only. */
export function crossFitScores(
  set: readonly FramePrediction[],
  scorer: Scorer,
  variant: CloudVariant,
  folds: readonly [readonly number[], readonly number[]],
): number[] {
  const score = new Array<number>(set.length).fill(Number.NaN);
  folds.forEach((fold, f) => {
    const fitted = fitScorer(
      scorer,
      folds[1 - f]!.map((i) => set[i]!),
      variant,
    );
    for (const i of fold) score[i] = fitted.score(set[i]!);
  });
  return score;
}

export interface SignalRow {
  signal: string;
  /** Extra edge ms per frame this signal costs, measured in this run (null: not measured). */
  extraMs: number | null;
  /** Smallest offload keeping ≥ 99 % of cloud-only top-1, per payload (null: never). */
  minOffloadFor99: Record<string, number | null>;
  /** The same against 99 % of the cloud's top-1 on that payload (which may be below captured's). */
  minOffloadFor99OfPayload: Record<string, number | null>;
  /** Spread of the original payload's figure over resamples of the set, against `learned`. */
  spread: MinOffloadSpread | null;
  /** Kept of cloud-only top-1 at the largest offload within `bytesCap` of the captured bytes. */
  atBytesCap: { payload: string; offloadFraction: number; keptOfCloud: number; bytesRatio: number } | null;
}

export interface SignalResults {
  cost: SignalCost | null;
  bytesCap: number;
  rows: SignalRow[];
  /** Sweep points (every 1 % of offload) per signal and payload, for the CSV. */
  curves: {
    payload: string;
    policy: string;
    offloadFraction: number;
    cascadeTop1: number;
    bytesRatio: number;
  }[];
}

const extraMsOf = (signal: string, cost: SignalCost | null): number | null => {
  if (!cost) return null;
  const passes = signal === 'learned+agree' ? ['flip', 'alt'] : signal.split('+');
  if (passes.includes('pooled') && cost.pooledMs === null) return null;
  return (
    (passes.includes('flip') ? cost.flipMs : 0) +
    (passes.includes('alt') ? cost.altMs : 0) +
    (passes.includes('pooled') ? (cost.pooledMs ?? 0) : 0)
  );
};

/**
 * The richer edge signals of issue 16 §2 against the edge-only scorers, cross-fitted on the
 * same two folds as the rest of the bench: min offload at 99 % of cloud-only per payload,
 * the kept share at a byte cap, and each signal's measured extra edge ms per frame.
 */
export function analyseSignals(
  set: readonly SignalledPrediction[],
  options: { cost: SignalCost | null; seed?: number; bytesCap?: number; baseline?: readonly Scorer[] },
): SignalResults {
  const { cost, bytesCap = 0.25, baseline = ['maxProb', 'learned'] } = options;
  const labelled = set.filter((p) => p.truth !== null);
  const n = labelled.length;
  const folds = twoFolds(n, options.seed);
  const edgeRight = labelled.map((p) => argmax(p.edge) === p.truth);
  const cloudTop1 = labelled.filter((p) => p.cloud.captured!.top1 === p.truth).length / n;
  const target = 0.99 * cloudTop1;
  const capturedPerFrame = labelled.reduce((s, p) => s + p.capturedBytes, 0) / n;
  const rows: SignalRow[] = [];
  const curves: SignalResults['curves'] = [];
  // The pooled rule only when the pass kept the activations (`pooled: true`).
  const signals = SIGNAL_SCORERS.filter(
    (s) => s !== 'learned+pooled' || labelled.every((p) => p.signals.pooled),
  );
  const originalScores: Record<string, number[]> = {};
  let originalOutcomes: Outcome[] = [];
  for (const signal of [...baseline, ...signals]) {
    const row: SignalRow = {
      signal,
      extraMs: extraMsOf(signal, cost),
      minOffloadFor99: {},
      minOffloadFor99OfPayload: {},
      spread: null,
      atBytesCap: null,
    };
    for (const variant of SIGNAL_VARIANTS) {
      const payload = variant === 'captured' ? 'original' : variant;
      const outcomes: Outcome[] = labelled.map((p, i) => ({
        edgeCorrect: edgeRight[i]!,
        cloudCorrect: p.cloud[variant]!.top1 === p.truth,
        payloadBytes: p.cloud[variant]!.bytes,
        capturedBytes: p.capturedBytes,
      }));
      const score = crossFitScores(labelled, signal, variant, folds);
      if (variant === 'captured') {
        originalScores[signal] = score;
        originalOutcomes = outcomes;
      }
      const curve = curveByScore(outcomes, score);
      row.minOffloadFor99[payload] = minOffloadFor(curve, target)?.offloadFraction ?? null;
      const payloadTop1 = outcomes.filter((o) => o.cloudCorrect).length / n;
      row.minOffloadFor99OfPayload[payload] =
        minOffloadFor(curve, 0.99 * payloadTop1)?.offloadFraction ?? null;
      for (let k = 0; k <= 100; k++) {
        const p = curve[Math.round((k / 100) * n)]!;
        curves.push({
          payload,
          policy: signal,
          offloadFraction: p.offloadFraction,
          cascadeTop1: p.cascadeTop1,
          bytesRatio: p.bytesPerFrame / capturedPerFrame,
        });
      }
      if (variant !== 'captured') {
        const within = curve.filter((p) => p.bytesPerFrame / capturedPerFrame <= bytesCap + 1e-12).at(-1);
        row.atBytesCap = within
          ? {
              payload,
              offloadFraction: within.offloadFraction,
              keptOfCloud: within.cascadeTop1 / cloudTop1,
              bytesRatio: within.bytesPerFrame / capturedPerFrame,
            }
          : null;
      }
    }
    rows.push(row);
  }
  if (originalScores.learned) {
    const spread = bootstrapMinOffload(originalOutcomes, originalScores, { reference: 'learned' });
    for (const row of rows) row.spread = spread[row.signal] ?? null;
  }
  return { cost, bytesCap, rows, curves };
}
