/** Per-device allowance of frames for inference. */
export interface FrameRateLimiter {
  /** Frames per second allowed to each device; `null` when there is no limit. */
  readonly perSecond: number | null;
  /**
   * Takes one frame's allowance for the device; false when it has none left now. A shared limiter
   * (state/redis-rate-limit.ts) needs a round trip, hence the promise.
   */
  take(deviceId: string): boolean | Promise<boolean>;
  forget(deviceId: string): void;
}

/** The in-memory limiter answers at once. */
export interface MemoryFrameRateLimiter extends FrameRateLimiter {
  take(deviceId: string): boolean;
}

export interface FrameRateLimiterOptions {
  /** Sustained frames per second per device; undefined: no limit. */
  perSecond: number | undefined;
  /** Frames a device may send at once after a quiet spell. Default: one second's worth (at least 1). */
  burst?: number;
  /** Milliseconds, monotonic. */
  now?: () => number;
}

/**
 * A token bucket per device: `burst` tokens, refilled at `perSecond`, one per frame. Buckets are
 * per device, not per connection, so reconnecting does not refill one.
 */
export function createFrameRateLimiter(options: FrameRateLimiterOptions): MemoryFrameRateLimiter {
  const { perSecond, now = () => performance.now() } = options;
  if (perSecond === undefined) return { perSecond: null, take: () => true, forget: () => {} };
  const burst = options.burst ?? Math.max(1, perSecond);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    perSecond,
    take(deviceId) {
      const t = now();
      const bucket = buckets.get(deviceId) ?? { tokens: burst, at: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
      bucket.at = t;
      buckets.set(deviceId, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
    forget(deviceId) {
      buckets.delete(deviceId);
    },
  };
}
