// Threshold choices from the risk-control literature, on the per-frame rewards of cuts.ts (the
// target holds on a set ⇔ Σ reward ≥ 0). Both scan the cuts from the safe end (keep: offload
// everything, or for LTT the cut that keeps most; offload: nothing) towards the risky one.
import { type ChooseInput, isCut, type rankByScore, rewardsOf } from './cuts.ts';

/** Φ⁻¹(p) (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** The cuts from the safe end to the risky one. */
function sequence(input: ChooseInput, ranked: ReturnType<typeof rankByScore>): number[] {
  const n = ranked.order.length;
  const ks = Array.from({ length: n + 1 }, (_, i) => (input.target.kind === 'keep' ? n - i : i));
  return ks.filter((k) => isCut(ranked.scores, ranked.order, k));
}

/**
 * Learn then Test (Angelopoulos, Bates, Candès, Jordan, Lei 2021) with fixed-sequence testing.
 * Each cut k is a hypothesis "the target fails at k"; the cuts are tested in order from the safe
 * end, each at level δ = 1 − confidence, and the last one rejected before the first that is not
 * is chosen. No step depends on the risk being monotone in the threshold (the per-frame loss here
 * is not: offloading a frame the edge had right and the cloud has wrong costs a point), and the
 * grid's size costs nothing. The p-value is about the held-out set the promise concerns, not the
 * population: under a random split the calibration mean minus the held-out mean of a cut's rewards
 * is about normal with variance σ²(1/n_cal + 1/n_test), so a failing held-out set (mean < 0) makes
 * z = mean_cal / (σ̂ √(1/n_cal + 1/n_test)) ≥ z_{1−δ} happen with probability ≤ δ. (The paper's
 * Hoeffding–Bentkus p-values bound the population risk only and are far wider at n = 500.)
 */
export function lttCut(input: ChooseInput, ranked: ReturnType<typeof rankByScore>): number | null {
  const n = ranked.order.length;
  const r = rewardsOf(input, ranked.order);
  // Sums of rewards and of their squares at every cut, offloading the first k.
  let s = r.reduce((acc, x) => acc + x.kept, 0);
  let q = r.reduce((acc, x) => acc + x.kept * x.kept, 0);
  const sum = new Float64Array(n + 1);
  const squares = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) {
    sum[k] = s;
    squares[k] = q;
    if (k < n) {
      s += r[k]!.offloaded - r[k]!.kept;
      q += r[k]!.offloaded ** 2 - r[k]!.kept ** 2;
    }
  }
  const zNeeded = normalQuantile(input.confidence);
  const spread = Math.sqrt(1 / n + 1 / Math.max(1, input.predictFor));
  const zAt = (k: number) => {
    const mean = sum[k]! / n;
    const sd = Math.sqrt(Math.max(0, (squares[k]! / n - mean * mean) * (n / Math.max(1, n - 1))));
    return sd > 0 ? mean / (sd * spread) : mean > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  };
  // A keep target starts at the cut the data is surest of, not at "offload everything": with a
  // lossy payload (re-encoded, faces redacted) offloading every frame keeps less than the best
  // cut, and a walk that starts there stops before the cuts that would pass. Where the walk from
  // "offload everything" passes, this start lies on it and the choice is the same. (The start is
  // read off the same data: a target within a hair of the best cut is certified a little
  // optimistically.)
  let cuts = sequence(input, ranked);
  if (input.target.kind === 'keep' && cuts.length > 0) {
    const start = cuts.reduce((a, k) => (zAt(k) > zAt(a) ? k : a), cuts[0]!);
    cuts = cuts.filter((k) => k <= start);
  }
  let best: number | null = null;
  for (const k of cuts) {
    if (zAt(k) < zNeeded) break;
    best = k;
  }
  return best;
}

/**
 * Conformal risk control (Angelopoulos, Bates, Fisch, Lei, Schuster 2022): the riskiest cut with
 * (n·R̂ + B)/(n + 1) ≤ α, here α = 0 on the loss −reward and B its largest value. CRC needs a loss
 * that falls monotonically towards the safe end, and this one does not, so each frame's loss is
 * monotonized as the paper proposes (§ non-monotone losses): a frame that a safer cut could still
 * switch takes the worse of its two states. For keep targets that forgoes the point a kept frame
 * wins where the edge is right and the cloud wrong. The promise is on the expected held-out risk,
 * not its quantile: `confidence` plays no part.
 */
export function crcCut(input: ChooseInput, ranked: ReturnType<typeof rankByScore>): number | null {
  const n = ranked.order.length;
  const keep = input.target.kind === 'keep';
  const r = rewardsOf(input, ranked.order);
  const worst = (x: { kept: number; offloaded: number }) => Math.min(x.kept, x.offloaded);
  // Σ monotonized reward at cut k: for keep, frames k… may still be offloaded by a safer cut; for
  // offload, frames …k−1 may still be kept.
  const bound = keep ? input.target.fraction : 1 - input.target.fraction;
  let s = r.reduce((acc, x) => acc + (keep ? worst(x) : x.kept), 0);
  const sum = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) {
    sum[k] = s;
    if (k < n) s += keep ? r[k]!.offloaded - worst(r[k]!) : worst(r[k]!) - r[k]!.kept;
  }
  let best: number | null = null;
  for (const k of sequence(input, ranked)) {
    if (sum[k]! < bound) break;
    best = k;
  }
  return best;
}
