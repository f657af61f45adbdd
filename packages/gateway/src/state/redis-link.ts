import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';

/** Whether the shared store answers now, as `/readyz` shows it. */
export interface RedisHealth {
  /** host:port/db of the server, never its password. */
  target: string;
  up: boolean;
  /** Epoch ms of the last change between up and down. */
  since: number;
  /** Times the link was lost since the gateway started. */
  outages: number;
}

/**
 * The gateway's two connections to Redis (commands, and one in subscriber mode) and whether they
 * answer. Commands fail at once while the link is down (no offline queue, no retry per request,
 * a timeout on each), so a frame never waits on a dead Redis: callers fall back to memory.
 * ioredis reconnects by itself; `onUp` listeners run after every (re)connect, to resynchronise.
 */
export interface RedisLink {
  readonly client: Redis;
  readonly subscriber: Redis;
  /** True while the command connection is ready. */
  readonly up: boolean;
  /** Runs after every (re)connect of the command connection; returns the unsubscribe function. */
  onUp(listener: () => Promise<void> | void): () => void;
  /** Resolves once the first connect's `onUp` listeners ran, or after `timeoutMs` (false). */
  firstSync(timeoutMs: number): Promise<boolean>;
  health(): RedisHealth;
  close(): Promise<void>;
}

export interface RedisLinkOptions {
  url: string;
  commandTimeoutMs: number;
  logger: Logger;
  /** Where `squeezegate_redis_up` is registered. */
  registry?: Registry;
}

/** The URL without credentials, for logs and probes. */
export function redisTarget(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

export function createRedisLink(options: RedisLinkOptions): RedisLink {
  const { url, commandTimeoutMs } = options;
  const log = options.logger.child({ component: 'redis' });
  const target = redisTarget(url);
  const settings = {
    // Fail fast while disconnected: memory answers instead (see RedisLink).
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    // Subscriptions are renewed by `onUp` on the subscriber's own ready event.
    autoResubscribe: false,
    // Reconnect at most a second after Redis is back.
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
    lazyConnect: true,
  };
  const client = new Redis(url, settings);
  const subscriber = new Redis(url, settings);
  const health: RedisHealth = { target, up: false, since: Date.now(), outages: 0 };
  const listeners = new Set<() => Promise<void> | void>();
  let closed = false;
  let synced: () => void = () => {};
  const firstSynced = new Promise<void>((resolve) => {
    synced = resolve;
  });

  if (options.registry) {
    new Gauge({
      name: 'squeezegate_redis_up',
      help: '1 while the shared state in Redis answers, 0 while the gateway serves from memory',
      registers: [options.registry],
      collect() {
        this.set(health.up ? 1 : 0);
      },
    });
  }

  client.on('ready', () => {
    const wasDown = health.outages > 0;
    health.up = true;
    health.since = Date.now();
    log.info({ target }, wasDown ? 'redis is back: resynchronising shared state' : 'redis connected');
    void (async () => {
      for (const listener of listeners) {
        try {
          await listener();
        } catch (err) {
          log.warn({ err }, 'redis resync step failed; it runs again on the next reconnect');
        }
      }
      synced();
    })();
  });
  client.on('close', () => {
    if (!health.up) return;
    health.up = false;
    health.since = Date.now();
    health.outages++;
    if (!closed) log.warn({ target }, 'redis is down: serving from memory until it is back');
  });
  // ioredis emits an error per failed attempt; the state change is logged once above.
  client.on('error', (err) => log.debug({ err: { message: err.message } }, 'redis error'));
  subscriber.on('error', (err) => log.debug({ err: { message: err.message } }, 'redis subscriber error'));
  client.connect().catch(() => {});
  subscriber.connect().catch(() => {});

  return {
    client,
    subscriber,
    get up() {
      return health.up && client.status === 'ready';
    },
    onUp(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async firstSync(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return await Promise.race([firstSynced.then(() => true as const), timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
    health: () => ({ ...health }),
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      await Promise.allSettled([client.quit(), subscriber.quit()]);
      client.disconnect();
      subscriber.disconnect();
    },
  };
}
