import type { BackoffOptions } from '../frame-source.ts';

export const BACKOFF_DEFAULTS = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 } as const;

/**
 * The delay before restart number `attempt` (0-based): exponential, capped, with jitter so that
 * cameras behind one failed switch do not all reconnect in the same millisecond.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const { initialMs, maxMs, factor, jitter } = { ...BACKOFF_DEFAULTS, ...options };
  const base = Math.min(maxMs, initialMs * factor ** Math.min(attempt, 60));
  return Math.round(base * (1 - jitter * random()));
}
