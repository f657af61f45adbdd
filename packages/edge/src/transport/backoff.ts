/**
 * The link's waits, as pure functions of their inputs (the random source injected): which gateway
 * comes next, how long to wait before dialling it, how long to hold frames back after `BUSY`.
 */

/** Exponential backoff bounds: base · 2^n ms, never above `maxMs`. */
export interface BackoffBounds {
  baseMs: number;
  maxMs: number;
}

/** The exponential ceiling for the n-th retry (n from 0): min(maxMs, baseMs · 2^n). */
export function backoffCeilingMs(bounds: BackoffBounds, n: number): number {
  // 2^n overflows to Infinity long before n is a problem; min() keeps the cap.
  return Math.min(bounds.maxMs, bounds.baseMs * 2 ** Math.max(0, n));
}

/**
 * "Full jitter" (AWS Architecture Blog, *Exponential Backoff And Jitter*, 2015): a uniform draw in
 * [0, min(cap, base · 2^n)). Devices shed together by one overloaded gateway spread their retries
 * over the whole window instead of coming back in step.
 */
export function fullJitterMs(bounds: BackoffBounds, n: number, random: () => number): number {
  return random() * backoffCeilingMs(bounds, n);
}

/** Where and when the link dials next, after its connection to `gateways[current]` ended. */
export interface ReconnectPlan {
  /** Index of the gateway to dial. */
  index: number;
  delayMs: number;
}

/**
 * After a connection ends (refused, closed, handshake failed, silent), the link dials the next
 * gateway in the list, round robin: a gateway that is gone is left at once, and one that comes
 * back is found again on a later round. `failures` counts the attempts since the last welcome
 * (0 for the first retry); the backoff grows once per full round, so with one gateway it is the
 * single-gateway backoff unchanged: min(maxMs, baseMs · 2^failures), with "equal jitter" (half
 * fixed, half random), which keeps a floor between dials of a gateway that refuses at once.
 */
export function planReconnect(options: {
  gateways: number;
  current: number;
  failures: number;
  bounds: BackoffBounds;
  random: () => number;
}): ReconnectPlan {
  const { gateways, current, failures, bounds, random } = options;
  const n = Math.max(1, gateways);
  const round = Math.floor(Math.max(0, failures) / n);
  const ceiling = backoffCeilingMs(bounds, round);
  return { index: (current + 1) % n, delayMs: ceiling * (0.5 + random() / 2) };
}
