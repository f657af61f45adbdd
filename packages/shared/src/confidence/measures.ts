/** Numerically stable softmax over logits. */
export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

export interface Ranked {
  index: number;
  p: number;
}

/** The k most probable classes, best first. */
export function topK(probs: ArrayLike<number>, k: number): Ranked[] {
  const best: Ranked[] = [];
  if (k <= 0) return best;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (best.length === k && p <= best[k - 1]!.p) continue;
    let j = Math.min(best.length, k - 1);
    if (best.length < k) best.push({ index: i, p });
    while (j > 0 && best[j - 1]!.p < p) {
      best[j] = best[j - 1]!;
      j--;
    }
    best[j] = { index: i, p };
  }
  return best;
}

export const CONFIDENCE_MEASURES = ['maxProb', 'margin', 'entropy', 'calibrated'] as const;
export type ConfidenceMeasure = (typeof CONFIDENCE_MEASURES)[number];

/**
 * Softmax at temperature T from probabilities: softmax(log p / T) equals softmax(logits / T),
 * since log p differs from the logits by a constant.
 */
export function temper(probs: ArrayLike<number>, temperature: number): Float32Array {
  if (temperature === 1) return Float32Array.from(probs);
  const scaled = new Float32Array(probs.length);
  for (let i = 0; i < probs.length; i++) scaled[i] = Math.log(Math.max(probs[i]!, 1e-38)) / temperature;
  return softmax(scaled);
}

/**
 * Confidence of a probability vector, higher = surer, all in [0, 1]:
 * - `maxProb`: p(top-1)
 * - `margin`: p(top-1) − p(top-2)
 * - `entropy`: 1 − H(p)/ln(K), normalised entropy turned into a confidence
 * - `calibrated`: p(top-1) after temperature scaling (see fitTemperature); T = 1 is maxProb
 */
export function confidence(
  probs: ArrayLike<number>,
  measure: ConfidenceMeasure,
  options: { temperature?: number } = {},
): number {
  switch (measure) {
    case 'maxProb':
      return topK(probs, 1)[0]?.p ?? 0;
    case 'margin': {
      const [a, b] = topK(probs, 2);
      return (a?.p ?? 0) - (b?.p ?? 0);
    }
    case 'entropy': {
      let h = 0;
      for (let i = 0; i < probs.length; i++) {
        const p = probs[i]!;
        if (p > 0) h -= p * Math.log(p);
      }
      return probs.length > 1 ? 1 - h / Math.log(probs.length) : 1;
    }
    case 'calibrated':
      return confidence(temper(probs, options.temperature ?? 1), 'maxProb');
  }
}

/** All measures at once, for records and benches. */
export function confidences(
  probs: ArrayLike<number>,
  options: { temperature?: number } = {},
): Record<ConfidenceMeasure, number> {
  return {
    maxProb: confidence(probs, 'maxProb'),
    margin: confidence(probs, 'margin'),
    entropy: confidence(probs, 'entropy'),
    calibrated: confidence(probs, 'calibrated', options),
  };
}
