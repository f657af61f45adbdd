import { type ChooseInput, cloudRight, edgeRight, type rankByScore } from './cuts.ts';
import { poisson1, quantile } from './random.ts';

/**
 * The first method (`bootstrap`): the number of frames to offload so that the target holds, with
 * the given one-sided confidence, on a held-out set of `predictFor` frames. The bootstrap spread of
 * the calibration estimate is widened by √(1 + n_cal / n_test), since the held-out figure carries
 * sampling noise of its own (a prediction bound rather than a confidence bound). Keep targets take
 * the smallest offload whose lower bound of kept cloud-only top-1 reaches the target (scanning
 * from the risky end: the first pass, not a fixed sequence); offload targets the largest whose
 * upper bound of offload fraction stays under it. Null when none does.
 */
export function bootstrapCut(input: ChooseInput, ranked: ReturnType<typeof rankByScore>): number | null {
  const { cal, variant, target, random, bootstrap, confidence, predictFor } = input;
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
  const { order } = ranked;
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
  return best;
}
