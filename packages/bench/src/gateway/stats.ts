import { percentile } from '@squeezegate/edge';

/** p50, p95 and p99 of latencies in any order (NaN when there are none). */
export function latencySummary(latencies: readonly number[]): { p50: number; p95: number; p99: number } {
  const q = (x: number) => percentile(latencies, x) ?? Number.NaN;
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}

/** Threads per worker when none are given: the cores shared out, at least one each. */
export const threadsFor = (workers: number, cores: number) => Math.max(1, Math.floor(cores / workers));

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
