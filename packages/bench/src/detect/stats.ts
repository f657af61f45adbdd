import { percentile } from '@squeezegate/edge';

/** The middle and the tail of a sample of timings, and how many went in. */
export interface Spread {
  p50: number;
  p95: number;
  n: number;
}

/** Nearest-rank p50 and p95; a bench section that timed nothing is a bug, so empty throws. */
export function spread(values: readonly number[]): Spread {
  const p50 = percentile(values, 0.5);
  const p95 = percentile(values, 0.95);
  if (p50 === null || p95 === null) throw new RangeError('spread of an empty sample');
  return { p50, p95, n: values.length };
}

export const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);

export const mean = (values: readonly number[]) => (values.length > 0 ? sum(values) / values.length : 0);

/** `a / b`, or null when the baseline is zero (nothing to compare against). */
export const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);
