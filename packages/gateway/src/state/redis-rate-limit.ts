import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FrameRateLimiter, MemoryFrameRateLimiter } from '../limits/frame-rate.ts';
import type { RedisLink } from './redis-link.ts';

/**
 * The token bucket of limits/frame-rate.ts, run by Redis on one hash per device
 * (`tokens`, `at` in ms of the Redis server's clock, so replicas' clocks do not matter).
 * KEYS[1] bucket; ARGV[1] tokens per second; ARGV[2] burst. Returns 1 when a token was taken.
 */
const TAKE_TOKEN = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return taken
`;

type WithTakeToken = Redis & {
  squeezegateTakeToken(key: string, perSecond: number, burst: number): Promise<number>;
};

export interface SharedRateLimiterOptions {
  /** This replica's buckets: used while Redis is down. */
  local: MemoryFrameRateLimiter;
  link: RedisLink;
  keyPrefix: string;
  /** Same default as the memory limiter: one second's worth. */
  burst?: number;
  logger: Logger;
}

/**
 * Per-device rate limits shared by every replica: one bucket per device in Redis
 * (`<prefix>rate:<device>`), taken from by a Lua script (atomic, one round trip). A device that
 * spreads its frames over replicas gets the same allowance as on one. While Redis is down each
 * replica limits from its own buckets.
 */
export function createSharedRateLimiter(options: SharedRateLimiterOptions): FrameRateLimiter {
  const { local, link, keyPrefix } = options;
  const perSecond = local.perSecond;
  if (perSecond === null) return local;
  const burst = options.burst ?? Math.max(1, perSecond);
  const log = options.logger.child({ component: 'shared-rate-limit' });
  const client = link.client as WithTakeToken;
  client.defineCommand('squeezegateTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
  const key = (deviceId: string) => `${keyPrefix}rate:${deviceId}`;
  return {
    perSecond,
    async take(deviceId) {
      if (!link.up) return local.take(deviceId);
      try {
        return (await client.squeezegateTakeToken(key(deviceId), perSecond, burst)) === 1;
      } catch (err) {
        log.debug({ err: { message: (err as Error).message } }, 'shared rate limit unavailable');
        return local.take(deviceId);
      }
    },
    forget(deviceId) {
      local.forget(deviceId);
      if (link.up) client.del(key(deviceId)).catch(() => {});
    },
  };
}
