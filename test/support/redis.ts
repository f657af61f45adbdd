// The real Redis the tests share (127.0.0.1:6379, started before every session and by .ci/run):
// each test takes its own key prefix and deletes its keys after. A TCP relay stands between a
// gateway and Redis when a test needs Redis unreachable without stopping the shared server.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';

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

/**
 * A TCP relay to a server (Redis here): `cut()` drops every connection through it and refuses
 * new ones, as a network partition would; `restore()` lets them through again, on the same port.
 */
export async function createTcpRelay(target: { host: string; port: number }) {
  let open = true;
  const pairs = new Set<Socket>();
  const server = createServer((client) => {
    client.on('error', () => {});
    if (!open) return void client.destroy();
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => {});
    pairs.add(client);
    pairs.add(upstream);
    const end = () => {
      pairs.delete(client);
      pairs.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const s of pairs) s.destroy();
    },
    restore() {
      open = true;
    },
    async close() {
      for (const s of pairs) s.destroy();
      server.close();
      await once(server, 'close');
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}

/** Redis's own target, parsed from REDIS_URL. */
export const redisTarget = () => {
  const u = new URL(REDIS_URL);
  return { host: u.hostname, port: Number(u.port || 6379) };
};
