/** One frame's outcome under a payload: is each side right, and what would offloading cost. */
export interface Outcome {
  edgeCorrect: boolean;
  /** The cloud's answer on the payload the edge would send. */
  cloudCorrect: boolean;
  payloadBytes: number;
  capturedBytes: number;
}

/** A point of a trade-off curve. */
export interface CurvePoint {
  offloaded: number;
  offloadFraction: number;
  /** Frames whose score is below this go (null for a set not chosen by a threshold). */
  threshold: number | null;
  cascadeTop1: number;
  /** Payload bytes sent, per frame of the set. */
  bytesPerFrame: number;
}

/**
 * The whole curve of a score (lower = less sure = offloaded first): point k offloads the k
 * lowest-scoring frames. Ties are broken by position, so the curve has n + 1 points.
 */
export function curveByScore(outcomes: readonly Outcome[], score: readonly number[]): CurvePoint[] {
  const n = outcomes.length;
  const order = [...outcomes.keys()].sort((a, b) => score[a]! - score[b]! || a - b);
  let correct = outcomes.reduce((s, o) => s + (o.edgeCorrect ? 1 : 0), 0);
  let bytes = 0;
  const points: CurvePoint[] = [];
  for (let k = 0; k <= n; k++) {
    points.push({
      offloaded: k,
      offloadFraction: n ? k / n : 0,
      threshold: k < n ? score[order[k]!]! : Number.POSITIVE_INFINITY,
      cascadeTop1: n ? correct / n : 0,
      bytesPerFrame: n ? bytes / n : 0,
    });
    if (k < n) {
      const o = outcomes[order[k]!]!;
      correct += (o.cloudCorrect ? 1 : 0) - (o.edgeCorrect ? 1 : 0);
      bytes += o.payloadBytes;
    }
  }
  return points;
}

/** The outcome of offloading exactly the frames in `mask`. */
export function pointForSet(outcomes: readonly Outcome[], mask: readonly boolean[]): CurvePoint {
  const n = outcomes.length;
  let offloaded = 0;
  let correct = 0;
  let bytes = 0;
  outcomes.forEach((o, i) => {
    if (mask[i]) {
      offloaded++;
      bytes += o.payloadBytes;
      if (o.cloudCorrect) correct++;
    } else if (o.edgeCorrect) correct++;
  });
  return {
    offloaded,
    offloadFraction: n ? offloaded / n : 0,
    threshold: null,
    cascadeTop1: n ? correct / n : 0,
    bytesPerFrame: n ? bytes / n : 0,
  };
}

/** The first point (fewest offloads) reaching a top-1, or null when none does. */
export function minOffloadFor(curve: readonly CurvePoint[], top1: number): CurvePoint | null {
  // A tiny tolerance so that "99 % of 0.82" is met by 0.8118 despite floating point.
  return curve.find((p) => p.cascadeTop1 >= top1 - 1e-12) ?? null;
}

/** The oracle: offload exactly the frames where the edge is wrong and the cloud right. */
export const oracleMask = (outcomes: readonly Outcome[]) =>
  outcomes.map((o) => !o.edgeCorrect && o.cloudCorrect);
