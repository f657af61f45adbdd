import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { GatewayConfig } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createFrameRateLimiter, type FrameRateLimiter } from '../limits/frame-rate.ts';
import type { FleetMonitor } from '../monitor/fleet-monitor.ts';
import { createFrameLedger, type FrameLedger } from '../sessions/frame-ledger.ts';
import { createSharedFleet, replicaKey } from './redis-fleet.ts';
import { createSharedLedger } from './redis-ledger.ts';
import { createRedisLink, type RedisHealth } from './redis-link.ts';
import { createSharedRateLimiter } from './redis-rate-limit.ts';
import { createSharedRevocations } from './redis-revocations.ts';

/** A revoked credential: the device and its token's sha256 (hex). */
export interface RevokedCredential {
  deviceId: string;
  sha256: string;
}

/** Where revocations go beyond this gateway, and where the other replicas' come from. */
export interface RevocationStore {
  /** False for the memory store: revocations stay in this process. */
  readonly shared: boolean;
  /** Tells the other replicas of a revocation made here. */
  revoked(credential: RevokedCredential): void;
  /** Revocations made elsewhere (again after every reconnect); returns the unsubscribe function. */
  subscribe(listener: (credential: RevokedCredential) => void): () => void;
}

/** What `/readyz` says of the shared state. */
export type StateHealth = { store: 'memory' } | ({ store: 'redis'; pendingAnswers: number } & RedisHealth);

/**
 * What gateway replicas share (DESIGN.md, "state/"): the frame ledger, revocations, rate limits
 * and the fleet view. In memory by default (one gateway); in Redis with `redis` in the config.
 * Sessions, admin routes and the dashboard see only these interfaces.
 */
export interface GatewayState {
  readonly ledger: FrameLedger;
  readonly rateLimiter: FrameRateLimiter;
  readonly revocations: RevocationStore;
  health(): StateHealth;
  close(): Promise<void>;
}

export interface GatewayStateOptions {
  config: Readonly<GatewayConfig>;
  logger: Logger;
  /** The monitor whose fleet view is shared (Redis only). */
  monitor: FleetMonitor;
  /** This gateway's revoked credentials, written back after a Redis outage. */
  revokedHere(): RevokedCredential[];
  /** Where `squeezegate_redis_up` goes (Redis only). */
  metrics?: Registry;
  /** How long to wait for Redis at start before serving from memory (default 2 s). */
  connectWaitMs?: number;
  /** The fleet view's publish interval (default 1 s). */
  fleetIntervalMs?: number;
  /**
   * This gateway's name among the replicas (its in-flight marks, its fleet heartbeat): the one
   * its MQTT events carry too. Default: `redis.replicaId`, else a fresh `defaultGatewayId()`.
   */
  gatewayId?: string;
}

/** A name for this gateway process, unique even for several in one process (tests). */
export const defaultGatewayId = () => `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;

const memoryRevocations: RevocationStore = {
  shared: false,
  revoked() {},
  subscribe: () => () => {},
};

/**
 * Memory, or Redis when configured. With Redis, waits up to `connectWaitMs` for the first sync
 * (revocations read, so a revoked device is refused from the first connection); if Redis does
 * not answer by then, the gateway starts from memory and syncs when it does.
 */
export async function createGatewayState(options: GatewayStateOptions): Promise<GatewayState> {
  const { config, logger } = options;
  const ledger = createFrameLedger({ perDevice: config.answerCacheSize });
  const rateLimiter = createFrameRateLimiter({ perSecond: config.maxFramesPerSecond });
  if (!config.redis) {
    return {
      ledger,
      rateLimiter,
      revocations: memoryRevocations,
      health: () => ({ store: 'memory' }),
      close: async () => {},
    };
  }
  const { url, keyPrefix, ledgerTtlSeconds, commandTimeoutMs } = config.redis;
  const replicaId = options.gatewayId ?? config.redis.replicaId ?? defaultGatewayId();
  const link = createRedisLink({
    url,
    commandTimeoutMs,
    logger,
    ...(options.metrics ? { registry: options.metrics } : {}),
  });
  const shared = {
    ledger: createSharedLedger({
      local: ledger,
      link,
      keyPrefix,
      ttlMs: ledgerTtlSeconds * 1000,
      replicaId,
      isAlive: async (id) => (await link.client.exists(replicaKey(keyPrefix, id))) === 1,
      logger,
    }),
    rateLimiter: createSharedRateLimiter({ local: rateLimiter, link, keyPrefix, logger }),
    revocations: createSharedRevocations({ link, keyPrefix, known: options.revokedHere, logger }),
  };
  const fleet = createSharedFleet({
    link,
    keyPrefix,
    replicaId,
    monitor: options.monitor,
    logger,
    ...(options.fleetIntervalMs ? { intervalMs: options.fleetIntervalMs } : {}),
  });
  const log = logger.child({ component: 'gateway-state' });
  if (!(await link.firstSync(options.connectWaitMs ?? 2000))) {
    log.warn(
      { target: link.health().target },
      'redis not reachable at start: serving from memory until it is',
    );
  }
  let closing: Promise<void> | null = null;
  return {
    ...shared,
    health: () => ({ store: 'redis', pendingAnswers: shared.ledger.pending(), ...link.health() }),
    close() {
      closing ??= (async () => {
        await fleet.close();
        await link.close();
      })();
      return closing;
    },
  };
}
