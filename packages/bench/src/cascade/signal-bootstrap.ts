import { curveByScore, minOffloadFor, type Outcome, quantile, seededRandom } from '@squeezegate/edge';

export interface MinOffloadSpread {
  /** 5th and 95th percentile of the min offload at 99 % over the resamples (null: never reached). */
  interval90: [number, number] | null;
  /** Share of resamples in which this signal needs less offload than the reference. */
  belowReference: number;
}

/**
 * How much a min offload at 99 % of cloud-only moves with the evaluation set: the frames are
 * resampled with replacement (`reps` times, seeded), the scores held fixed (they are the
 * cross-fitted ones, so the spread is that of the evaluation, not of the fit). Paired: every
 * signal is measured on the same resamples, so `belowReference` compares like with like.
 */
export function bootstrapMinOffload(
  outcomes: readonly Outcome[],
  scores: Readonly<Record<string, readonly number[]>>,
  options: { reference: string; reps?: number; seed?: number },
): Record<string, MinOffloadSpread> {
  const { reference, reps = 200, seed = 11 } = options;
  const n = outcomes.length;
  const random = seededRandom(seed);
  const names = Object.keys(scores);
  const draws: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const below: Record<string, number> = Object.fromEntries(names.map((k) => [k, 0]));
  for (let r = 0; r < reps; r++) {
    const idx = Array.from({ length: n }, () => Math.floor(random() * n));
    const oc = idx.map((i) => outcomes[i]!);
    const target = (0.99 * oc.filter((o) => o.cloudCorrect).length) / n;
    const at: Record<string, number> = {};
    for (const k of names) {
      const s = scores[k]!;
      // Never reached counts as offloading everything (the cascade cannot do better than that).
      at[k] =
        minOffloadFor(
          curveByScore(
            oc,
            idx.map((i) => s[i]!),
          ),
          target,
        )?.offloadFraction ?? 1;
      draws[k]!.push(at[k]!);
    }
    for (const k of names) if (at[k]! < at[reference]!) below[k]!++;
  }
  return Object.fromEntries(
    names.map((k) => [
      k,
      {
        interval90: [quantile(draws[k]!, 0.05), quantile(draws[k]!, 0.95)] as [number, number],
        belowReference: below[k]! / reps,
      },
    ]),
  );
}
