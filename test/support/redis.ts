// The real Redis the tests share (127.0.0.1:6379, started before every session and by .ci/run):
// each test takes its own key prefix and deletes its keys after. A TCP relay stands between a
// gateway and Redis when a test needs Redis unreachable without stopping the shared server.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTcpRelay } from './tcp-relay.ts';

export const REDIS_URL = process.env.SQUEEZEGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test uses. */
export const uniquePrefix = (what: string) => `sg-test:${what}:${randomBytes(6).toString('hex')}:`;

/** A plain client for the test's own reads, and the cleanup of every key under `prefix`. */
export function testRedis(prefix: string) {
  const client = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
  return {
    client,
    async close() {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await client.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
      await client.quit();
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}

/** A relay in front of the shared Redis (tcp-relay.ts), with the URL a gateway is given. */
export async function createRedisRelay() {
  const { host, port } = redisTarget();
  const relay = await createTcpRelay(port, host);
  return Object.assign(relay, { url: `redis://127.0.0.1:${relay.port}` });
}

/** Redis's own target, parsed from REDIS_URL. */
export const redisTarget = () => {
  const u = new URL(REDIS_URL);
  return { host: u.hostname, port: Number(u.port || 6379) };
};
