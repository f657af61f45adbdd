import {
  argmax,
  type CloudVariant,
  type FramePrediction,
  seededRandom,
  shuffled,
  withFusion,
} from '@squeezegate/edge';
import { confidence, PolicySchema } from '@squeezegate/shared';

/** The agent's default threshold on maxProb: where the fused answers are measured. */
const DEFAULT_THRESHOLD = (PolicySchema.parse({ kind: 'threshold' }) as { threshold: number }).threshold;
export const FUSION_WEIGHTS = [0, 0.1, 0.25, 0.5, 1] as const;

export interface FusionRow {
  payload: string;
  /** Kept of cloud-only top-1 at the default threshold, per edge weight. */
  keptByWeight: Record<string, number>;
  /**
   * The weight chosen on one half (the best of FUSION_WEIGHTS there) and scored on the other,
   * over `splits` random halvings: the mean kept, and the mean gain over weight 0.
   */
  crossFitted: { splits: number; kept: number; gain: number; gainP5: number };
  offloadFraction: number;
  bytesRatio: number;
}

export interface FusionResults {
  threshold: number;
  weights: readonly number[];
  rows: FusionRow[];
}

/**
 * The cascade at the agent's default threshold with each offloaded frame's answer fused with
 * the edge's (`fuseAnswer`), per payload and edge weight; the weight's own choice cross-fitted.
 */
export function analyseFusion(
  predictions: readonly FramePrediction[],
  options: { variants: readonly CloudVariant[]; payloadName: (v: CloudVariant) => string; splits?: number },
): FusionResults {
  const set = predictions.filter((p) => p.truth !== null);
  const threshold = DEFAULT_THRESHOLD;
  const goes = set.map((p) => confidence(p.edge, 'maxProb') < threshold);
  const splits = options.splits ?? 100;
  const rows: FusionRow[] = [];
  for (const variant of options.variants) {
    // Older caches lack the cloud's top 5: those payloads cannot be fused.
    if (!set.every((p) => p.cloud[variant]?.top || p.cloud[variant]?.withheld)) continue;
    const right = new Map<number, boolean[]>();
    for (const w of FUSION_WEIGHTS) {
      const fused = withFusion(set, w);
      right.set(
        w,
        fused.map((p, i) => (goes[i] ? p.cloud[variant]!.top1 : argmax(p.edge)) === p.truth),
      );
    }
    const cloudRight = set.map((p) => p.cloud.captured.top1 === p.truth);
    const kept = (w: number, idx: readonly number[]) => {
      const r = right.get(w)!;
      const cascade = idx.reduce((s, i) => s + Number(r[i]), 0);
      const cloud = idx.reduce((s, i) => s + Number(cloudRight[i]), 0);
      return cloud ? cascade / cloud : 0;
    };
    const all = [...set.keys()];
    const random = seededRandom(11);
    const gains: number[] = [];
    let keptSum = 0;
    for (let s = 0; s < splits; s++) {
      const order = shuffled(all, random);
      const fit = order.slice(0, order.length / 2);
      const test = order.slice(order.length / 2);
      const w = FUSION_WEIGHTS.reduce((best, c) => (kept(c, fit) > kept(best, fit) ? c : best), 0);
      keptSum += kept(w, test);
      gains.push(kept(w, test) - kept(0, test));
    }
    gains.sort((a, b) => a - b);
    const captured = set.reduce((s, p) => s + p.capturedBytes, 0);
    const bytes = set.reduce((s, p, i) => s + (goes[i] ? p.cloud[variant]!.bytes : 0), 0);
    rows.push({
      payload: options.payloadName(variant),
      keptByWeight: Object.fromEntries(FUSION_WEIGHTS.map((w) => [String(w), kept(w, all)])),
      crossFitted: {
        splits,
        kept: splits ? keptSum / splits : 0,
        gain: splits ? gains.reduce((s, g) => s + g, 0) / splits : 0,
        gainP5: gains[Math.floor(0.05 * gains.length)] ?? 0,
      },
      offloadFraction: goes.filter(Boolean).length / set.length,
      bytesRatio: captured ? bytes / captured : 0,
    });
  }
  return { threshold, weights: FUSION_WEIGHTS, rows };
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const pts = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(2)}`;

/** The fused-answers table for the docs. */
export function fusionMarkdown(f: FusionResults): string {
  if (f.rows.length === 0) return '';
  const head = `| payload | offload | bytes of captured | ${f.weights.map((w) => `w = ${w}`).join(' | ')} | w chosen on half, other half (gain over w = 0; 5th percentile) |`;
  const rule = `|${' --- |'.repeat(4 + f.weights.length)}`;
  const rows = f.rows.map(
    (r) =>
      `| ${r.payload} | ${pct(r.offloadFraction)} | ${pct(r.bytesRatio)} | ${f.weights.map((w) => pct(r.keptByWeight[String(w)]!)).join(' | ')} | ${pct(r.crossFitted.kept)} (${pts(r.crossFitted.gain)}; ${pts(r.crossFitted.gainP5)} points) |`,
  );
  return [
    `**Answers fused with the edge** (kept of cloud-only top-1 at the agent's default, maxProb < ${f.threshold}; an offloaded frame's answer is the cloud's top 5 re-ranked by log p_cloud + w · log p_edge, \`fusion.edgeWeight\`; the last column picks w on a random half and scores the other, over ${f.rows[0]!.crossFitted.splits} halvings):`,
    '',
    head,
    rule,
    ...rows,
    '',
  ].join('\n');
}
