import type { PayloadShape } from '@squeezegate/shared';
import { type CloudVariant, type FramePrediction, payloadOf } from './predictions.ts';
import { poisson1, quantile, seededRandom, shuffled } from './random.ts';
import { argmax, calibrationError, type FittedScorer, fitScorer, type Scorer } from './scorers.ts';

/** Keep at least `fraction` of cloud-only top-1, or offload at most `fraction` of frames. */
export type CalibrationTarget = { kind: 'keep'; fraction: number } | { kind: 'offload'; fraction: number };

export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

export interface CalibrationReport {
  scorer: Scorer;
  target: CalibrationTarget;
  /** The config fragment the agent loads (`squeezegate-edge --config`). */
  fragment: { policy: Record<string, unknown>; payload: PayloadShape };
  variant: CloudVariant;
  calibrationFrames: number;
  heldOutFrames: number;
  /** On the held-out part, with 95 % bootstrap intervals. */
  heldOut: {
    offloadFraction: Interval;
    keptOfCloud: Interval;
    cascadeTop1: number;
    cloudTop1: number;
    bytesRatio: number;
    met: boolean;
  };
  /** Temperature and the held-out ECE before/after, for the calibrated measure. */
  temperature?: { value: number; eceBefore: number; eceAfter: number };
  /** The whole procedure over many random splits: how often the target held on held-out data. */
  robustness: { splits: number; metFraction: number; offloadMean: number; keptMean: number };
}

export class CalibrationError extends Error {
  override readonly name = 'CalibrationError';
  readonly code: 'TARGET_UNREACHABLE' | 'TOO_FEW_FRAMES';
  constructor(message: string, code: CalibrationError['code'] = 'TARGET_UNREACHABLE') {
    super(message);
    this.code = code;
  }
}

export interface CalibrateOptions {
  predictions: readonly FramePrediction[];
  target: CalibrationTarget;
  scorer: Scorer;
  /** Payloads to choose from; the one meeting the target with the fewest bytes wins. */
  variants: readonly CloudVariant[];
  heldOutFraction?: number;
  /** Bootstrap resamples for choosing the threshold and for intervals. */
  bootstrap?: number;
  /** One-sided confidence with which the target must hold on the calibration part. */
  confidence?: number;
  splits?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

interface Choice {
  threshold: number;
  fitted: FittedScorer;
  bytesPerFrame: number;
}

const cloudRight = (p: FramePrediction, v: CloudVariant) => p.cloud[v]!.top1 === p.truth;
const edgeRight = (p: FramePrediction) => argmax(p.edge) === p.truth;

/**
 * Chooses a threshold on the calibration part so that the target holds, with the given one-sided
 * confidence, on a held-out set of `predictFor` frames: the bootstrap spread of the calibration
 * estimate is widened by √(1 + n_cal / n_test), since the held-out figure carries sampling noise
 * of its own (a prediction bound rather than a confidence bound). Keep targets take the smallest
 * offload whose lower bound of kept cloud-only top-1 reaches the target; offload targets the
 * largest whose upper bound of offload fraction stays under it.
 */
function chooseThreshold(
  cal: readonly FramePrediction[],
  fitted: FittedScorer,
  variant: CloudVariant,
  target: CalibrationTarget,
  random: () => number,
  bootstrap: number,
  confidence: number,
  predictFor: number,
): Choice | null {
  const n = cal.length;
  const widen = Math.sqrt(1 + n / Math.max(1, predictFor));
  const lowerBound = (xs: number[]) => {
    const mid = quantile(xs, 0.5);
    return mid - (mid - quantile(xs, 1 - confidence)) * widen;
  };
  const upperBound = (xs: number[]) => {
    const mid = quantile(xs, 0.5);
    return mid + (quantile(xs, confidence) - mid) * widen;
  };
  const scores = cal.map((p) => fitted.score(p));
  const order = [...cal.keys()].sort((a, b) => scores[a]! - scores[b]! || a - b);
  const w = Array.from({ length: bootstrap }, () => Float64Array.from({ length: n }, () => poisson1(random)));
  const total = w.map((wb) => wb.reduce((s, x) => s + x, 0));
  const cloudOnly = w.map((wb) => cal.reduce((s, p, i) => s + (cloudRight(p, 'captured') ? wb[i]! : 0), 0));
  const cascade = w.map((wb) => cal.reduce((s, p, i) => s + (edgeRight(p) ? wb[i]! : 0), 0));
  const offloaded = new Float64Array(bootstrap);
  let best: number | null = null;
  for (let k = 0; k <= n; k++) {
    if (target.kind === 'keep') {
      const kept = cascade.map((c, b) => (cloudOnly[b]! > 0 ? c / cloudOnly[b]! : 0));
      if (lowerBound(kept) >= target.fraction) {
        best = k;
        break;
      }
    } else {
      const frac = [...offloaded].map((o, b) => (total[b]! > 0 ? o / total[b]! : 0));
      if (upperBound(frac) <= target.fraction) best = k;
      else break;
    }
    if (k === n) break;
    const i = order[k]!;
    const p = cal[i]!;
    const delta = (cloudRight(p, variant) ? 1 : 0) - (edgeRight(p) ? 1 : 0);
    for (let b = 0; b < bootstrap; b++) {
      cascade[b]! += delta * w[b]![i]!;
      offloaded[b]! += w[b]![i]!;
    }
  }
  if (best === null) return null;
  // A threshold cannot split frames of equal score: a keep target takes the whole tie group,
  // an offload target leaves it out.
  const at = (k: number) => scores[order[k]!]!;
  if (best > 0 && best < n && at(best - 1) === at(best)) {
    if (target.kind === 'keep') while (best < n && at(best) === at(best - 1)) best++;
    else while (best > 0 && at(best - 1) === at(best)) best--;
  }
  // Offload below the threshold: halfway between the last frame in and the first frame out.
  const below = best > 0 ? scores[order[best - 1]!]! : Number.NEGATIVE_INFINITY;
  const above = best < n ? scores[order[best]!]! : Number.POSITIVE_INFINITY;
  const threshold =
    Number.isFinite(below) && Number.isFinite(above) ? (below + above) / 2 : best === 0 ? 0 : 1;
  let spent = 0;
  for (let k = 0; k < best; k++) spent += cal[order[k]!]!.cloud[variant]!.bytes;
  return { threshold, fitted, bytesPerFrame: spent / n };
}

function evaluate(
  test: readonly FramePrediction[],
  choice: Choice,
  variant: CloudVariant,
  weights?: Float64Array,
) {
  let offloaded = 0;
  let cascade = 0;
  let cloudOnly = 0;
  let total = 0;
  let bytes = 0;
  let captured = 0;
  test.forEach((p, i) => {
    const w = weights ? weights[i]! : 1;
    total += w;
    captured += w * p.capturedBytes;
    if (cloudRight(p, 'captured')) cloudOnly += w;
    if (choice.fitted.score(p) < choice.threshold) {
      offloaded += w;
      bytes += w * p.cloud[variant]!.bytes;
      if (cloudRight(p, variant)) cascade += w;
    } else if (edgeRight(p)) cascade += w;
  });
  return {
    offloadFraction: total ? offloaded / total : 0,
    keptOfCloud: cloudOnly ? cascade / cloudOnly : 0,
    cascadeTop1: total ? cascade / total : 0,
    cloudTop1: total ? cloudOnly / total : 0,
    bytesRatio: captured ? bytes / captured : 0,
  };
}

const meets = (target: CalibrationTarget, r: { keptOfCloud: number; offloadFraction: number }) =>
  target.kind === 'keep' ? r.keptOfCloud >= target.fraction : r.offloadFraction <= target.fraction;

/**
 * Calibrates an offload rule on labelled predictions: choose on one part, report on the other
 * with bootstrap intervals, then repeat over random splits to see how often the target holds.
 */
export function calibrate(options: CalibrateOptions): CalibrationReport {
  const {
    target,
    scorer,
    variants,
    heldOutFraction = 0.5,
    bootstrap = 200,
    confidence = 0.99,
    splits = 200,
    seed = 1,
  } = options;
  const labelled = options.predictions.filter((p) => p.truth !== null);
  if (labelled.length < 20)
    throw new CalibrationError(
      `calibration needs at least 20 labelled frames, got ${labelled.length}`,
      'TOO_FEW_FRAMES',
    );
  const random = seededRandom(seed);
  const testSize = Math.round(labelled.length * heldOutFraction);
  const split = () => {
    const s = shuffled(labelled, random);
    const cut = Math.round(s.length * (1 - heldOutFraction));
    return { cal: s.slice(0, cut), test: s.slice(cut) };
  };
  const pick = (cal: readonly FramePrediction[]) => {
    let best: (Choice & { variant: CloudVariant }) | null = null;
    for (const variant of variants) {
      const choice = chooseThreshold(
        cal,
        fitScorer(scorer, cal, variant),
        variant,
        target,
        random,
        bootstrap,
        confidence,
        testSize,
      );
      if (choice && (!best || choice.bytesPerFrame < best.bytesPerFrame)) best = { ...choice, variant };
    }
    return best;
  };

  const main = split();
  const chosen = pick(main.cal);
  if (!chosen) {
    throw new CalibrationError(
      `no threshold meets ${target.kind === 'keep' ? `keep ${target.fraction} of cloud-only top-1` : `offload ${target.fraction}`} with ${Math.round(confidence * 100)} % confidence on ${main.cal.length} frames, with payloads ${variants.join(', ')}; try --payload original, a lower target or more data`,
    );
  }
  const point = evaluate(main.test, chosen, chosen.variant);
  const boots = Array.from({ length: bootstrap }, () => {
    const w = Float64Array.from({ length: main.test.length }, () => poisson1(random));
    return evaluate(main.test, chosen, chosen.variant, w);
  });
  const interval = (key: 'offloadFraction' | 'keptOfCloud', value: number): Interval => ({
    value,
    lo: quantile(
      boots.map((b) => b[key]),
      0.025,
    ),
    hi: quantile(
      boots.map((b) => b[key]),
      0.975,
    ),
  });

  let met = 0;
  let offloadSum = 0;
  let keptSum = 0;
  for (let s = 0; s < splits; s++) {
    const { cal, test } = split();
    const choice = chooseThreshold(
      cal,
      fitScorer(scorer, cal, chosen.variant),
      chosen.variant,
      target,
      random,
      bootstrap,
      confidence,
      testSize,
    );
    const r = choice ? evaluate(test, choice, chosen.variant) : null;
    if (r && meets(target, r)) met++;
    offloadSum += r?.offloadFraction ?? 1;
    keptSum += r?.keptOfCloud ?? 0;
    options.onProgress?.(s + 1, splits);
  }

  const report: CalibrationReport = {
    scorer,
    target,
    fragment: { policy: chosen.fitted.policyFor(chosen.threshold), payload: payloadOf(chosen.variant) },
    variant: chosen.variant,
    calibrationFrames: main.cal.length,
    heldOutFrames: main.test.length,
    heldOut: {
      offloadFraction: interval('offloadFraction', point.offloadFraction),
      keptOfCloud: interval('keptOfCloud', point.keptOfCloud),
      cascadeTop1: point.cascadeTop1,
      cloudTop1: point.cloudTop1,
      bytesRatio: point.bytesRatio,
      met: meets(target, point),
    },
    robustness: {
      splits,
      metFraction: splits ? met / splits : 0,
      offloadMean: offloadSum / splits,
      keptMean: keptSum / splits,
    },
  };
  if (chosen.fitted.temperature !== undefined) {
    const ece = calibrationError(main.test, chosen.fitted.temperature);
    report.temperature = { value: chosen.fitted.temperature, eceBefore: ece.before, eceAfter: ece.after };
  }
  return report;
}
