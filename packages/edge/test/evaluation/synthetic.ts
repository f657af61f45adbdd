import type { CloudVariant, CloudView, FramePrediction } from '@squeezegate/edge';
import { mulberry32, randomInt } from '../../../../test/support/prng.ts';

export const CLASSES = 10;

export interface SyntheticOptions {
  frames: number;
  seed: number;
  /** P(cloud right) on a frame of difficulty d, per variant; default 0.97 − 0.25·d for all. */
  cloudRight?: Partial<Record<CloudVariant, (d: number) => number>>;
  variants?: readonly CloudVariant[];
}

/** A wrong class, uniformly among the other CLASSES − 1. */
const wrong = (truth: number, random: () => number) => (truth + 1 + randomInt(random, CLASSES - 1)) % CLASSES;

/**
 * Labelled predictions driven by a latent difficulty d ∈ [0, 1]: the edge is right with
 * probability 0.95 − 0.75·d and its top probability falls with d (overconfident: it stays above
 * the accuracy), the cloud is right with a higher probability. One uniform draw per frame decides
 * the cloud for every variant, so variants with the same rule agree frame by frame.
 */
export function syntheticPredictions(options: SyntheticOptions): FramePrediction[] {
  const { frames, seed, variants = ['captured', 'crop-q85'] } = options;
  const random = mulberry32(seed);
  const out: FramePrediction[] = [];
  for (let f = 0; f < frames; f++) {
    const d = random();
    const truth = randomInt(random, CLASSES);
    const edgeTop = random() < 0.95 - 0.75 * d ? truth : wrong(truth, random);
    const p1 = Math.min(0.99, Math.max(0.3, 1 - 0.6 * d + (random() - 0.5) * 0.1));
    // The rest of the mass over the other classes, none of them above p1.
    const rest = Array.from({ length: CLASSES - 1 }, () => 0.5 + random());
    const sum = rest.reduce((s, x) => s + x, 0);
    const edge = new Float32Array(CLASSES);
    let j = 0;
    for (let c = 0; c < CLASSES; c++) edge[c] = c === edgeTop ? p1 : ((1 - p1) * rest[j++]!) / sum;
    const capturedBytes = 40_000 + randomInt(random, 20_000);
    const u = random();
    const other = wrong(truth, random);
    const cloud = {} as Record<CloudVariant, CloudView>;
    for (const v of new Set<CloudVariant>(['captured', ...variants])) {
      const rule = options.cloudRight?.[v] ?? ((x: number) => 0.97 - 0.25 * x);
      // Every payload but the captured file is a fifth of its size.
      const ratio = v === 'captured' ? 1 : 0.2;
      cloud[v] = {
        top1: u < rule(d) ? truth : other,
        p: 0.5 + 0.5 * (1 - d),
        bytes: Math.round(capturedBytes * ratio),
      };
    }
    out.push({ name: `frame-${String(f).padStart(4, '0')}.jpg`, truth, capturedBytes, edge, cloud });
  }
  return out;
}
