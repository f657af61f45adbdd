import type { CloudVariant, FramePrediction } from './predictions.ts';
import { argmax, type FittedScorer } from './scorers.ts';

/** Keep at least `fraction` of cloud-only top-1, or offload at most `fraction` of frames. */
export type CalibrationTarget = { kind: 'keep'; fraction: number } | { kind: 'offload'; fraction: number };

/** A chosen threshold on a fitted score: frames scoring below it are offloaded. */
export interface Choice {
  threshold: number;
  fitted: FittedScorer;
  bytesPerFrame: number;
}

/** What every method that picks a threshold is given. */
export interface ChooseInput {
  cal: readonly FramePrediction[];
  fitted: FittedScorer;
  variant: CloudVariant;
  target: CalibrationTarget;
  random: () => number;
  bootstrap: number;
  /** One-sided level: the target must hold with this probability (δ = 1 − confidence). */
  confidence: number;
  /** Size of the held-out set the promise is about (its own sampling noise counts). */
  predictFor: number;
}

export const cloudRight = (p: FramePrediction, v: CloudVariant) => p.cloud[v]!.top1 === p.truth;
export const edgeRight = (p: FramePrediction) => argmax(p.edge) === p.truth;

/** Calibration frames by score, lowest (offloaded first) first; ties in input order. */
export function rankByScore(cal: readonly FramePrediction[], fitted: FittedScorer) {
  const scores = cal.map((p) => fitted.score(p));
  const order = [...cal.keys()].sort((a, b) => scores[a]! - scores[b]! || a - b);
  return { scores, order };
}

/**
 * Per-frame rewards in the order frames are offloaded: the target holds on a set exactly when the
 * sum of its frames' rewards is ≥ 0. For keep:f a frame is worth (cascade right) − f·(cloud-only
 * right), so Σ ≥ 0 ⇔ cascade top-1 ≥ f · cloud-only top-1 (the ratio as a sum); for offload:f it is
 * f − (offloaded). `kept` and `offloaded` are its reward in either state.
 */
export function rewardsOf(input: Pick<ChooseInput, 'cal' | 'variant' | 'target'>, order: readonly number[]) {
  const { cal, variant, target } = input;
  const f = target.fraction;
  return order.map((i) => {
    const p = cal[i]!;
    if (target.kind === 'offload') return { kept: f, offloaded: f - 1 };
    const base = cloudRight(p, 'captured') ? f : 0;
    return { kept: (edgeRight(p) ? 1 : 0) - base, offloaded: (cloudRight(p, variant) ? 1 : 0) - base };
  });
}

/**
 * The cut positions a threshold can make: offloading the first k frames of `order` is only
 * possible where frame k−1 and frame k differ in score (k = 0 and k = n always can).
 */
export function isCut(scores: readonly number[], order: readonly number[], k: number): boolean {
  return k === 0 || k === order.length || scores[order[k - 1]!]! !== scores[order[k]!]!;
}

/**
 * The threshold that offloads the first `best` frames (rounded to the end of a tie group for
 * keep targets, its start for offload targets, since a threshold cannot split equal scores),
 * halfway between the last frame in and the first frame out.
 */
export function choiceAt(input: ChooseInput, ranked: ReturnType<typeof rankByScore>, best: number): Choice {
  const { cal, fitted, variant, target } = input;
  const { scores, order } = ranked;
  const n = cal.length;
  const at = (k: number) => scores[order[k]!]!;
  if (best > 0 && best < n && at(best - 1) === at(best)) {
    if (target.kind === 'keep') while (best < n && at(best) === at(best - 1)) best++;
    else while (best > 0 && at(best - 1) === at(best)) best--;
  }
  const below = best > 0 ? at(best - 1) : Number.NEGATIVE_INFINITY;
  const above = best < n ? at(best) : Number.POSITIVE_INFINITY;
  const threshold =
    Number.isFinite(below) && Number.isFinite(above) ? (below + above) / 2 : best === 0 ? 0 : 1;
  let spent = 0;
  for (let k = 0; k < best; k++) spent += cal[order[k]!]!.cloud[variant]!.bytes;
  return { threshold, fitted, bytesPerFrame: spent / n };
}
