/**
 * The cascade's answer for an offloaded frame: the cloud's top classes re-ranked by a product of
 * experts with the edge, log p_cloud(c) + w · log p_edge(c). The edge saw the frame whole (no
 * redaction, no re-encoding) and the cloud saw a smaller, redacted payload, so where the cloud
 * hesitates between classes the edge's view can settle it. w = 0 is the cloud's own top-1.
 */
export interface Scored {
  index: number;
  p: number;
}

/** Keeps the edge's probabilities finite under the log: a class it gave 0 is merely unlikely. */
const FLOOR = 1e-9;

/** The fused answer among `cloudTop` (the cloud's probability is kept as the answer's p). */
export function fuseAnswer<T extends Scored>(
  cloudTop: readonly T[],
  edgeProbs: ArrayLike<number>,
  edgeWeight: number,
): T {
  if (cloudTop.length === 0) throw new RangeError('fuseAnswer needs at least one cloud class');
  let best = cloudTop[0]!;
  if (edgeWeight === 0) return best;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const c of cloudTop) {
    const score =
      Math.log(Math.max(c.p, FLOOR)) + edgeWeight * Math.log(Math.max(edgeProbs[c.index] ?? 0, FLOOR));
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}
