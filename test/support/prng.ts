import { seededRandom } from '@squeezegate/edge';

/**
 * A seeded PRNG (mulberry32, the one the edge's calibration uses) so fuzz loops and generated
 * fixtures are the same on every run: a failure reproduces from its seed.
 */
export const mulberry32 = seededRandom;

/** An integer in [0, n). */
export function randomInt(rng: () => number, n: number): number {
  return Math.floor(rng() * n);
}

/** `n` pseudo-random bytes. */
export function randomBytes(rng: () => number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = randomInt(rng, 256);
  return out;
}
