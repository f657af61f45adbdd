import type { PayloadShape } from '@squeezegate/shared';
import { bootstrapCut } from './bootstrap-bound.ts';
import {
  type CalibrationTarget,
  type Choice,
  type ChooseInput,
  choiceAt,
  cloudRight,
  edgeRight,
  rankByScore,
} from './cuts.ts';
import { type CloudVariant, type FramePrediction, payloadOf } from './predictions.ts';
import { poisson1, quantile, seededRandom, shuffled } from './random.ts';
import { crcCut, lttCut } from './risk-control.ts';
import { calibrationError, fitScorer, type Scorer } from './scorers.ts';

export type { CalibrationTarget };

export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

export interface CalibrationReport {
  scorer: Scorer;
  method: CalibrationMethod;
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
  /**
   * Over `splits` random splits: the share whose held-out half met the target, the mean offload
   * (a split where no threshold met the target counts as sending every frame), the mean kept over
   * the splits that found a threshold, and how many found none.
   */
  robustness: {
    splits: number;
    metFraction: number;
    offloadMean: number;
    keptMean: number;
    unreachable: number;
  };
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
  /**
   * How the threshold is chosen: `ltt` (Learn then Test, fixed-sequence, default), `bootstrap`
   * (the first method) or `crc` (conformal risk control, an expected-risk promise).
   */
  method?: CalibrationMethod;
  /** Bootstrap resamples for choosing the threshold (method `bootstrap`) and for intervals. */
  bootstrap?: number;
  /**
   * One-sided confidence with which the target must hold on a held-out set of the held-out size
   * (default 0.98: with `ltt` on the sample set, 96–97 % of held-out halves then meet keep:0.99;
   * at 0.95 about 94.5 %, the normal approximation being a little optimistic for the few frames
   * that decide it; see docs/benchmarks.md, bench:calibration).
   */
  confidence?: number;
  splits?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export const CALIBRATION_METHODS = ['ltt', 'bootstrap', 'crc'] as const;
/** How the threshold is chosen on the calibration part (see risk-control.ts, bootstrap-bound.ts). */
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

const CUTS: Record<CalibrationMethod, typeof lttCut> = { ltt: lttCut, bootstrap: bootstrapCut, crc: crcCut };

/**
 * A scorer that is fitted (the temperature, a learned rule) is fitted on one half of the
 * calibration part and its threshold chosen on the other: a threshold tested on the frames its
 * rule was fitted on would promise more than held-out frames give. Unfitted measures use it all.
 */
function fitApart(scorer: Scorer, cal: readonly FramePrediction[], variant: CloudVariant) {
  if (scorer !== 'calibrated' && !scorer.startsWith('learned'))
    return { cal, fitted: fitScorer(scorer, cal, variant) };
  const half = Math.floor(cal.length / 2);
  return { cal: cal.slice(half), fitted: fitScorer(scorer, cal.slice(0, half), variant) };
}

/** The threshold `method` chooses on `input.cal`, or null when the target is out of its reach. */
function chooseThreshold(method: CalibrationMethod, input: ChooseInput): Choice | null {
  const ranked = rankByScore(input.cal, input.fitted);
  const best = CUTS[method](input, ranked);
  return best === null ? null : choiceAt(input, ranked, best);
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
    method = 'ltt',
    heldOutFraction = 0.5,
    bootstrap = 200,
    confidence = 0.98,
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
      const choice = chooseThreshold(method, {
        ...fitApart(scorer, cal, variant),
        variant,
        target,
        random,
        bootstrap,
        confidence,
        predictFor: testSize,
      });
      if (choice && (!best || choice.bytesPerFrame < best.bytesPerFrame)) best = { ...choice, variant };
    }
    return best;
  };

  const main = split();
  const chosen = pick(main.cal);
  if (!chosen) {
    throw new CalibrationError(
      `no threshold meets ${target.kind === 'keep' ? `keep ${target.fraction} of cloud-only top-1` : `offload ${target.fraction}`} by ${method} with ${Math.round(confidence * 100)} % confidence on ${main.cal.length} frames, with payloads ${variants.join(', ')}; try a lower target or more data${variants.some((v) => v.includes('+')) ? ' (the redacted payloads cost the cloud some accuracy: --faces off shows how much)' : variants.includes('captured') ? '' : ', or --payload original'}`,
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
  let unreachable = 0;
  let offloadSum = 0;
  let keptSum = 0;
  for (let s = 0; s < splits; s++) {
    const { cal, test } = split();
    const choice = chooseThreshold(method, {
      ...fitApart(scorer, cal, chosen.variant),
      variant: chosen.variant,
      target,
      random,
      bootstrap,
      confidence,
      predictFor: testSize,
    });
    const r = choice ? evaluate(test, choice, chosen.variant) : null;
    if (r && meets(target, r)) met++;
    if (!r) unreachable++;
    offloadSum += r?.offloadFraction ?? 1;
    keptSum += r?.keptOfCloud ?? 0;
    options.onProgress?.(s + 1, splits);
  }

  const report: CalibrationReport = {
    scorer,
    method,
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
      offloadMean: splits ? offloadSum / splits : 0,
      keptMean: splits > unreachable ? keptSum / (splits - unreachable) : 0,
      unreachable,
    },
  };
  if (chosen.fitted.temperature !== undefined) {
    const ece = calibrationError(main.test, chosen.fitted.temperature);
    report.temperature = { value: chosen.fitted.temperature, eceBefore: ece.before, eceAfter: ece.after };
  }
  return report;
}
