// What bench:calibration measures (issue 16 §3), on predictions already made: each method's
// promise over random splits of the clean set, and a clean-calibrated threshold on a corrupted copy.
import {
  argmax,
  type CalibrateOptions,
  type CalibrationReport,
  calibrate,
  createPolicy,
  type FramePrediction,
  seededRandom,
  shuffled,
} from '@squeezegate/edge';
import { confidences, PolicySchema } from '@squeezegate/shared';
import type { Corruption } from './corrupt.ts';

type CalibrationMethod = NonNullable<CalibrateOptions['method']>;

/** A method at a confidence level (CRC's promise is on the expected risk and takes none). */
export interface Setting {
  method: CalibrationMethod;
  confidence: number;
  /** The confidence measure thresholded (default maxProb, the CLI's). */
  scorer?: CalibrateOptions['scorer'];
}

export interface CleanRow extends Setting {
  /** keep:target */
  target: number;
  splits: number;
  /** Share of the random splits whose held-out half met the target. */
  metFraction: number;
  offloadMean: number;
  keptMean: number;
}

/** Kept share of cloud-only top-1 and offload share on one set, for one threshold. */
export interface Applied {
  kept: number;
  offload: number;
}

export interface ShiftRow extends Setting {
  target: number;
  /** What the corrupted set must keep (issue 16 §3: 0.97). */
  shiftTarget: number;
  /** Thresholds, each chosen on one random clean calibration half. */
  thresholds: number;
  clean: Applied;
  corrupted: Applied;
  /** The worst of the thresholds on the corrupted set, and how many kept at least shiftTarget. */
  keptMin: number;
  metFraction: number;
  byCorruption: Partial<
    Record<Corruption, Applied & { frames: number; cloudTop1: number; edgeTop1: number }>
  >;
}

/** Applies a calibration report's fragment the way the agent does, to a labelled set. */
export function applyFragment(report: CalibrationReport, set: readonly FramePrediction[]): Applied {
  const policy = createPolicy(PolicySchema.parse(report.fragment.policy));
  let cascade = 0;
  let cloudOnly = 0;
  let offloaded = 0;
  for (const p of set) {
    const cloud = p.cloud[report.variant]!.top1 === p.truth;
    if (p.cloud.captured!.top1 === p.truth) cloudOnly++;
    // A rule on extra edge passes reads them from the frame's signals (predictDatasetWithSignals).
    const signals = (p as { signals?: { flip: Float32Array; alt: Float32Array } }).signals;
    const decision = policy.decide(
      {
        probs: p.edge,
        confidence: confidences(p.edge, { temperature: policy.temperature }),
        ...(signals ? { extras: { flip: signals.flip, alt: signals.alt } } : {}),
      },
      0,
    );
    if (decision.kind === 'offload') {
      offloaded++;
      if (cloud) cascade++;
    } else if (argmax(p.edge) === p.truth) cascade++;
  }
  return { kept: cloudOnly ? cascade / cloudOnly : 0, offload: set.length ? offloaded / set.length : 0 };
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

/** Every setting × keep target over `splits` random halves of the clean set. */
export function measureClean(options: {
  clean: readonly FramePrediction[];
  settings: readonly Setting[];
  targets: readonly number[];
  splits: number;
  seed?: number;
  onRow?: (row: CleanRow) => void;
}): CleanRow[] {
  const rows: CleanRow[] = [];
  for (const target of options.targets)
    for (const s of options.settings) {
      const r = calibrate({
        predictions: options.clean,
        target: { kind: 'keep', fraction: target },
        scorer: s.scorer ?? 'maxProb',
        variants: ['captured'],
        method: s.method,
        confidence: s.confidence,
        splits: options.splits,
        seed: options.seed ?? 1,
      });
      const row = { ...s, target, ...r.robustness };
      rows.push(row);
      options.onRow?.(row);
    }
  return rows;
}

/**
 * A threshold calibrated on clean images (one random half, `thresholds` times with other seeds)
 * applied to the whole corrupted set, against the same threshold on the whole clean set.
 * Cloud-only top-1 is the cloud's on the corrupted images as captured.
 */
export function measureShift(options: {
  clean: readonly FramePrediction[];
  corrupted: readonly FramePrediction[];
  corruption: ReadonlyMap<string, Corruption>;
  settings: readonly Setting[];
  target: number;
  shiftTarget: number;
  thresholds: number;
}): ShiftRow[] {
  const { clean, corrupted, corruption, target, shiftTarget, thresholds } = options;
  const kinds = [...new Set(corruption.values())];
  return options.settings.map((s) => {
    const reports = Array.from({ length: thresholds }, (_, i) =>
      calibrate({
        predictions: clean,
        target: { kind: 'keep', fraction: target },
        scorer: s.scorer ?? 'maxProb',
        variants: ['captured'],
        method: s.method,
        confidence: s.confidence,
        splits: 0,
        seed: 1000 + i,
      }),
    );
    const onClean = reports.map((r) => applyFragment(r, clean));
    const onCorrupted = reports.map((r) => applyFragment(r, corrupted));
    const byCorruption: ShiftRow['byCorruption'] = {};
    for (const kind of kinds) {
      const part = corrupted.filter((p) => corruption.get(p.name) === kind);
      const applied = reports.map((r) => applyFragment(r, part));
      const top1 = (right: (p: FramePrediction) => boolean) => part.filter(right).length / part.length;
      byCorruption[kind] = {
        frames: part.length,
        kept: mean(applied.map((a) => a.kept)),
        offload: mean(applied.map((a) => a.offload)),
        cloudTop1: top1((p) => p.cloud.captured!.top1 === p.truth),
        edgeTop1: top1((p) => argmax(p.edge) === p.truth),
      };
    }
    return {
      ...s,
      target,
      shiftTarget,
      thresholds,
      clean: { kept: mean(onClean.map((a) => a.kept)), offload: mean(onClean.map((a) => a.offload)) },
      corrupted: {
        kept: mean(onCorrupted.map((a) => a.kept)),
        offload: mean(onCorrupted.map((a) => a.offload)),
      },
      keptMin: Math.min(...onCorrupted.map((a) => a.kept)),
      metFraction: onCorrupted.filter((a) => a.kept >= shiftTarget).length / Math.max(1, thresholds),
      byCorruption,
    };
  });
}

/** The smallest offload share (lowest maxProb first) keeping `target` of cloud-only top-1 on the whole set. */
export function wholeSetOffload(set: readonly FramePrediction[], target: number): number {
  const maxProb = (p: FramePrediction) => p.edge[argmax(p.edge)]!;
  const order = [...set].sort((a, b) => maxProb(a) - maxProb(b));
  const cloudOnly = set.filter((p) => p.cloud.captured!.top1 === p.truth).length;
  let cascade = set.filter((p) => argmax(p.edge) === p.truth).length;
  for (let k = 0; k <= order.length; k++) {
    if (cascade >= target * cloudOnly - 1e-9) return k / Math.max(1, order.length);
    const p = order[k];
    if (p) cascade += (p.cloud.captured!.top1 === p.truth ? 1 : 0) - (argmax(p.edge) === p.truth ? 1 : 0);
  }
  return 1;
}

/**
 * The floor no method can go under: the smallest offload share of one fixed maxProb threshold,
 * set knowing the whole set, whose random held-out halves meet `target` at least `share` of the
 * time. It is what the held-out half's own sampling noise costs; a method that has only a
 * calibration half to go on pays for that half's noise on top.
 */
export function fixedThresholdFloor(
  set: readonly FramePrediction[],
  options: { target: number; share: number; halves: number; seed?: number },
): number {
  const n = set.length;
  const maxProb = set.map((p) => p.edge[argmax(p.edge)]!);
  const order = [...set.keys()].sort((a, b) => maxProb[a]! - maxProb[b]! || a - b);
  const rank = new Int32Array(n);
  for (const [k, i] of order.entries()) rank[i] = k;
  const edge = set.map((p) => (argmax(p.edge) === p.truth ? 1 : 0));
  const cloud = set.map((p) => (p.cloud.captured!.top1 === p.truth ? 1 : 0));
  const random = seededRandom(options.seed ?? 1);
  const keys = [...set.keys()];
  const halves = Array.from({ length: options.halves }, () =>
    shuffled(keys, random).slice(0, Math.floor(n / 2)),
  );
  for (let k = Math.floor(wholeSetOffload(set, options.target) * n); k <= n; k++) {
    // Only a cut between two different scores is a threshold.
    if (k > 0 && k < n && maxProb[order[k - 1]!] === maxProb[order[k]!]) continue;
    let met = 0;
    for (const half of halves) {
      let cascade = 0;
      let cloudOnly = 0;
      for (const i of half) {
        cloudOnly += cloud[i]!;
        cascade += rank[i]! < k ? cloud[i]! : edge[i]!;
      }
      if (cascade >= options.target * cloudOnly - 1e-9) met++;
    }
    if (met >= options.share * options.halves) return k / n;
  }
  return 1;
}
