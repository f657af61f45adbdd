import { temper } from './measures.ts';

/** A labelled prediction: the model's probabilities and the true class. */
export interface LabelledProbs {
  probs: ArrayLike<number>;
  truth: number;
}

/**
 * Expected calibration error of the top-1 probability: the frames are put in `bins` equal-width
 * bins by confidence, and ECE = Σ (n_b / N) · |accuracy_b − mean confidence_b|.
 */
export function expectedCalibrationError(
  samples: readonly { confidence: number; correct: boolean }[],
  bins = 15,
): number {
  if (samples.length === 0) return 0;
  const count = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  for (const s of samples) {
    const b = Math.min(bins - 1, Math.floor(s.confidence * bins));
    count[b]!++;
    conf[b]! += s.confidence;
    if (s.correct) hits[b]!++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b]! > 0) ece += Math.abs(hits[b]! - conf[b]!) / samples.length;
  }
  return ece;
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
}

/** ECE of a set at temperature T. */
export function eceAt(samples: readonly LabelledProbs[], temperature: number, bins = 15): number {
  return expectedCalibrationError(
    samples.map((s) => {
      const p = temper(s.probs, temperature);
      const top = argmax(p);
      return { confidence: p[top]!, correct: top === s.truth };
    }),
    bins,
  );
}

/** Mean negative log-likelihood of the true class at temperature T. */
export function nllAt(samples: readonly LabelledProbs[], temperature: number): number {
  let sum = 0;
  for (const s of samples) sum -= Math.log(Math.max(temper(s.probs, temperature)[s.truth] ?? 0, 1e-12));
  return sum / Math.max(1, samples.length);
}

/** Mean NLL at temperature T from precomputed log-probabilities (the hot loop of the fit). */
function nllFromLogs(logs: readonly Float32Array[], truths: readonly number[], temperature: number): number {
  let sum = 0;
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i]!;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < l.length; j++) if (l[j]! > max) max = l[j]!;
    let z = 0;
    for (let j = 0; j < l.length; j++) z += Math.exp((l[j]! - max) / temperature);
    sum -= (l[truths[i]!]! - max) / temperature - Math.log(z);
  }
  return sum / Math.max(1, logs.length);
}

/**
 * Temperature scaling (Guo et al., 2017): the T minimising the NLL on labelled data, by
 * golden-section search on log T over [0.05, 20] (the NLL is unimodal in T).
 */
export function fitTemperature(
  samples: readonly LabelledProbs[],
  options: { iterations?: number } = {},
): number {
  const logs = samples.map((s) => Float32Array.from(s.probs, (p) => Math.log(Math.max(p, 1e-38))));
  const truths = samples.map((s) => s.truth);
  const f = (logT: number) => nllFromLogs(logs, truths, Math.exp(logT));
  const phi = (Math.sqrt(5) - 1) / 2;
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  for (let i = 0; i < (options.iterations ?? 30); i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = f(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}
