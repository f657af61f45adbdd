import {
  argmax,
  type CloudVariant,
  type CurvePoint,
  calibrationError,
  createPolicy,
  curveByScore,
  type FramePrediction,
  fitScorer,
  minOffloadFor,
  type Outcome,
  oracleMask,
  pointForSet,
  type Scorer,
} from '@squeezegate/edge';
import { confidences } from '@squeezegate/shared';
import { twoFolds } from './signals.ts';

export const SCORERS: readonly Scorer[] = ['maxProb', 'margin', 'entropy', 'calibrated', 'learned'];

/** Price model: what uplink bytes and cloud inferences cost. */
export interface Prices {
  perGb: number;
  per1kInferences: number;
}

export interface Row {
  payload: string;
  policy: string;
  /** The policy's knob at this point: a threshold, a target rate, a byte budget. */
  param: number | null;
  offloadFraction: number;
  cascadeTop1: number;
  keptOfCloud: number;
  bytesPerFrame: number;
  /** Bytes sent relative to sending every frame as captured. */
  bytesRatio: number;
  costPer1kFrames: number;
}

export interface PayloadRow {
  payload: string;
  bytesPerFrame: number;
  bytesRatio: number;
  cloudTop1: number;
}

export interface CascadeResults {
  frames: number;
  edgeTop1: number;
  cloudTop1: number;
  target: number;
  payloads: PayloadRow[];
  rows: Row[];
  /** Smallest offload fraction keeping ≥ 99 % of cloud-only top-1, per payload and policy (null: never). */
  minOffloadFor99: Record<string, Record<string, number | null>>;
  /** Bytes sent at that point relative to sending every frame as captured. */
  bytesRatioFor99: Record<string, Record<string, number | null>>;
  temperature: { values: number[]; eceBefore: number; eceAfter: number };
  headline: {
    edgeTop1: number;
    cloudTop1: number;
    payload: string;
    offloadFor99PctOfCloud: Record<string, number | null>;
    best: string | null;
    bytesRatioAt99: number | null;
    /** The cheapest payload whose cloud top-1 is within a point of `original`'s. */
    cheapestNearOriginal: PayloadRow | null;
  };
}

/** The payload with the fewest bytes whose cloud top-1 is at most `points` below `original`'s. */
export function cheapestWithin(payloads: readonly PayloadRow[], points = 0.01): PayloadRow | null {
  const original = payloads.find((p) => p.payload === 'original');
  if (!original) return null;
  const near = payloads.filter((p) => p.cloudTop1 >= original.cloudTop1 - points - 1e-9);
  return near.sort((a, b) => a.bytesPerFrame - b.bytesPerFrame)[0] ?? null;
}

export const payloadName = (v: CloudVariant) => (v === 'captured' ? 'original' : v);

/**
 * Every policy, measure and baseline over one set of predictions. Scores that are fitted
 * (temperature, learned rule) are cross-fitted: each half is scored by a fit on the other half,
 * so no curve is measured on the data it was fitted on.
 */
export function analyse(
  predictions: readonly FramePrediction[],
  options: { variants: readonly CloudVariant[]; prices: Prices; fps: number; seed?: number },
): CascadeResults {
  const set = predictions.filter((p) => p.truth !== null);
  const n = set.length;
  if (n === 0) throw new Error('the cascade bench needs a labelled set (manifest.csv with file,class_index)');
  const { prices, fps } = options;
  const edgeRight = set.map((p) => argmax(p.edge) === p.truth);
  const cloudRight = (v: CloudVariant) => set.map((p) => p.cloud[v]!.top1 === p.truth);
  const mean = (xs: readonly (number | boolean)[]) =>
    xs.reduce<number>((s, x) => s + Number(x), 0) / xs.length;
  const edgeTop1 = mean(edgeRight);
  const cloudTop1 = mean(cloudRight('captured'));
  const target = 0.99 * cloudTop1;
  const capturedPerFrame = mean(set.map((p) => p.capturedBytes));
  const cost = (bytesPerFrame: number, offload: number) =>
    ((bytesPerFrame * 1000) / 1e9) * prices.perGb + offload * prices.per1kInferences;

  // Two folds, fixed by the seed, for cross-fitting.
  const folds = twoFolds(n, options.seed);
  const crossFit = (scorer: Scorer, variant: CloudVariant) => {
    const score = new Array<number>(n);
    const temperatures: number[] = [];
    folds.forEach((fold, f) => {
      const fitted = fitScorer(
        scorer,
        folds[1 - f]!.map((i) => set[i]!),
        variant,
      );
      if (fitted.temperature !== undefined) temperatures.push(fitted.temperature);
      for (const i of fold) score[i] = fitted.score(set[i]!);
    });
    return { score, temperatures };
  };

  const rows: Row[] = [];
  const payloads: PayloadRow[] = [];
  const minOffloadFor99: CascadeResults['minOffloadFor99'] = {};
  const bytesRatioFor99: CascadeResults['bytesRatioFor99'] = {};
  const row = (payload: string, policy: string, param: number | null, p: CurvePoint): Row => ({
    payload,
    policy,
    param,
    offloadFraction: p.offloadFraction,
    cascadeTop1: p.cascadeTop1,
    keptOfCloud: p.cascadeTop1 / cloudTop1,
    bytesPerFrame: p.bytesPerFrame,
    bytesRatio: p.bytesPerFrame / capturedPerFrame,
    costPer1kFrames: cost(p.bytesPerFrame, p.offloadFraction),
  });

  let temperatures: number[] = [];
  for (const variant of options.variants) {
    const name = payloadName(variant);
    const right = cloudRight(variant);
    const outcomes: Outcome[] = set.map((p, i) => ({
      edgeCorrect: edgeRight[i]!,
      cloudCorrect: right[i]!,
      payloadBytes: p.cloud[variant]!.bytes,
      capturedBytes: p.capturedBytes,
    }));
    const payloadBytes = mean(outcomes.map((o) => o.payloadBytes));
    payloads.push({
      payload: name,
      bytesPerFrame: payloadBytes,
      bytesRatio: payloadBytes / capturedPerFrame,
      cloudTop1: mean(right),
    });
    const mins: Record<string, number | null> = {};
    const bytesAt: Record<string, number | null> = {};
    const reach = (policy: string, p: CurvePoint | null | undefined) => {
      if (mins[policy] != null) return;
      const ok = p != null && p.cascadeTop1 >= target - 1e-12;
      mins[policy] = ok ? p.offloadFraction : null;
      bytesAt[policy] = ok ? p.bytesPerFrame / capturedPerFrame : null;
    };
    for (const scorer of SCORERS) {
      const { score, temperatures: ts } = crossFit(scorer, variant);
      if (scorer === 'calibrated' && variant === 'captured') temperatures = ts;
      const curve = curveByScore(outcomes, score);
      // 101 points (every 1 % of offload) are enough for the table and the chart.
      for (let k = 0; k <= 100; k++) {
        const p = curve[Math.round((k / 100) * n)]!;
        rows.push(row(name, scorer, Number.isFinite(p.threshold ?? 0) ? p.threshold : null, p));
      }
      reach(scorer, minOffloadFor(curve, target));
    }
    // Stateful policies, simulated over the set in capture order at `fps`.
    for (let t = 1; t <= 20; t++) {
      const rate = t / 20;
      const policy = createPolicy({
        kind: 'rate',
        target: rate,
        measure: 'maxProb',
        temperature: 1,
        burst: 3,
      });
      const mask = set.map(
        (p, i) =>
          policy.decide({ probs: p.edge, confidence: confidences(p.edge) }, (i * 1000) / fps).kind ===
          'offload',
      );
      const point = pointForSet(outcomes, mask);
      rows.push(row(name, 'rate', rate, point));
      reach('rate', point);
    }
    for (let b = 1; b <= 20; b++) {
      const bytesPerSecond = (b / 20) * fps * payloadBytes;
      const policy = createPolicy({
        kind: 'budget',
        bytesPerSecond,
        measure: 'maxProb',
        temperature: 1,
        threshold: 1,
      });
      const mask = set.map((p, i) => {
        const go =
          policy.decide({ probs: p.edge, confidence: confidences(p.edge) }, (i * 1000) / fps).kind ===
          'offload';
        if (go) policy.spent(p.cloud[variant]!.bytes);
        return go;
      });
      const point = pointForSet(outcomes, mask);
      rows.push(row(name, 'budget', Math.round(bytesPerSecond), point));
      reach('budget', point);
    }
    // Baselines: edge-only, cloud-only, random offload (expected value), the oracle.
    rows.push(
      row(
        name,
        'edge-only',
        null,
        pointForSet(
          outcomes,
          outcomes.map(() => false),
        ),
      ),
    );
    rows.push(
      row(
        name,
        'cloud-only',
        null,
        pointForSet(
          outcomes,
          outcomes.map(() => true),
        ),
      ),
    );
    for (let k = 0; k <= 20; k++) {
      const r = k / 20;
      const top1 = (1 - r) * edgeTop1 + r * mean(right);
      rows.push(
        row(name, 'random', r, {
          offloaded: r * n,
          offloadFraction: r,
          threshold: null,
          cascadeTop1: top1,
          bytesPerFrame: r * payloadBytes,
        }),
      );
    }
    const oracle = pointForSet(outcomes, oracleMask(outcomes));
    rows.push(row(name, 'oracle', null, oracle));
    const gain = mean(right) - edgeTop1;
    const r99 = target <= edgeTop1 ? 0 : gain > 0 ? (target - edgeTop1) / gain : Number.POSITIVE_INFINITY;
    if (r99 <= 1) {
      mins.random = r99;
      bytesAt.random = (r99 * payloadBytes) / capturedPerFrame;
    } else reach('random', null);
    // The oracle's own set overshoots the target; its smallest offload takes its frames one by one.
    reach(
      'oracle',
      minOffloadFor(
        curveByScore(
          outcomes,
          oracleMask(outcomes).map((m) => (m ? 0 : 1)),
        ),
        target,
      ),
    );
    minOffloadFor99[name] = mins;
    bytesRatioFor99[name] = bytesAt;
  }

  const ece = calibrationError(set, temperatures.length ? mean(temperatures) : 1);
  const headlinePayload = 'original';
  const offloadFor99PctOfCloud = Object.fromEntries(
    [...SCORERS, 'rate'].map((k) => [k, minOffloadFor99[headlinePayload]?.[k] ?? null]),
  );
  const candidates = Object.entries(offloadFor99PctOfCloud).filter(
    (e): e is [string, number] => e[1] !== null,
  );
  const best = candidates.sort((a, b) => a[1] - b[1])[0] ?? null;
  return {
    frames: n,
    edgeTop1,
    cloudTop1,
    target,
    payloads,
    rows,
    minOffloadFor99,
    bytesRatioFor99,
    temperature: { values: temperatures, eceBefore: ece.before, eceAfter: ece.after },
    headline: {
      edgeTop1,
      cloudTop1,
      payload: headlinePayload,
      offloadFor99PctOfCloud,
      best: best?.[0] ?? null,
      bytesRatioAt99: best ? (bytesRatioFor99[headlinePayload]?.[best[0]] ?? null) : null,
      cheapestNearOriginal: cheapestWithin(payloads),
    },
  };
}
