// The Redis stores one by one, on the real Redis (each test under its own prefix), and the parts
// of the registry, the monitor and the CLI they rely on.
import { createHash } from 'node:crypto';
import {
  createDeviceRegistry,
  createFleetMonitor,
  createFrameLedger,
  createFrameRateLimiter,
  createRedisLink,
  createSharedLedger,
  createSharedRateLimiter,
  type DeviceView,
  gatewayConfigFromCli,
  type RedisLink,
} from '@squeezegate/gateway';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL, testRedis, uniquePrefix } from '../../../../test/support/redis.ts';

const logger = pino({ level: 'silent' });
const sha = (t: string) => createHash('sha256').update(t).digest('hex');

describe('the Redis stores', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const setup = async (what: string) => {
    const keyPrefix = uniquePrefix(what);
    const redis = testRedis(keyPrefix);
    cleanup.push(() => redis.close());
    const link = async (): Promise<RedisLink> => {
      const l = createRedisLink({ url: REDIS_URL, commandTimeoutMs: 500, logger });
      cleanup.push(() => l.close());
      expect(await l.firstSync(5000)).toBe(true);
      return l;
    };
    return { keyPrefix, redis: redis.client, link };
  };

  it('a token bucket per device, shared by two replicas, with an expiry', async () => {
    const { keyPrefix, redis, link } = await setup('rate');
    // One token a minute, a burst of two: the third frame is over whichever replica takes it.
    const make = async () =>
      createSharedRateLimiter({
        local: createFrameRateLimiter({ perSecond: 1 / 60 }),
        link: await link(),
        keyPrefix,
        burst: 2,
        logger,
      });
    const [a, b] = [await make(), await make()];
    expect(await a.take('cam-1')).toBe(true);
    expect(await b.take('cam-1')).toBe(true);
    expect(await a.take('cam-1')).toBe(false);
    expect(await b.take('cam-1')).toBe(false);
    expect(await b.take('cam-2')).toBe(true);
    const ttl = await redis.pttl(`${keyPrefix}rate:cam-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(121_000);
    a.forget('cam-1');
    await expect.poll(() => redis.exists(`${keyPrefix}rate:cam-1`)).toBe(0);
    expect(await b.take('cam-1')).toBe(true);
  });

  it('the ledger keeps remembered answers with their TTL, and forgets a device', async () => {
    const { keyPrefix, redis, link } = await setup('ledger');
    const l = await link();
    const ledger = createSharedLedger({
      local: createFrameLedger({ perDevice: 8 }),
      link: l,
      keyPrefix,
      ttlMs: 60_000,
      replicaId: 'r1',
      isAlive: async () => true,
      logger,
    });
    const kept = await ledger.claim('cam-1', 'f-1', 'fp-1');
    const retried = await ledger.claim('cam-1', 'f-2', 'fp-2');
    if (kept.kind !== 'new' || retried.kind !== 'new') throw new Error('expected new claims');
    kept.settle('answer-1', { remember: true });
    retried.settle('busy', { remember: false });
    await expect
      .poll(() => redis.get(`${keyPrefix}ledger:cam-1:f-1`))
      .toBe(JSON.stringify({ f: 'fp-1', a: 'answer-1' }));
    expect(await redis.exists(`${keyPrefix}ledger:cam-1:f-2`)).toBe(0);
    const ttl = await redis.pttl(`${keyPrefix}ledger:cam-1:f-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);

    // Another replica: the answer comes from Redis; a different fingerprint is a new frame.
    const other = createSharedLedger({
      local: createFrameLedger({ perDevice: 8 }),
      link: await link(),
      keyPrefix,
      ttlMs: 60_000,
      replicaId: 'r2',
      isAlive: async () => true,
      logger,
    });
    expect(await other.claim('cam-1', 'f-1', 'fp-1')).toEqual({ kind: 'answered', answer: 'answer-1' });
    expect((await other.claim('cam-1', 'f-1', 'fp-other')).kind).toBe('new');
    // Junk under a ledger key is not an answer.
    await redis.set(`${keyPrefix}ledger:cam-1:f-9`, 'not json');
    expect((await other.claim('cam-1', 'f-9', 'fp-9')).kind).toBe('new');

    ledger.forget('cam-1');
    await expect.poll(() => redis.keys(`${keyPrefix}ledger:cam-1:*`)).toEqual([]);
    expect(ledger.size('cam-1')).toBe(0);
  });

  it('a frame in flight on one replica is waited for on another, and taken over from a dead one', async () => {
    const { keyPrefix, redis, link } = await setup('inflight');
    const alive = new Set(['r1', 'r2']);
    const make = async (replicaId: string) =>
      createSharedLedger({
        local: createFrameLedger({ perDevice: 8 }),
        link: await link(),
        keyPrefix,
        ttlMs: 60_000,
        replicaId,
        isAlive: async (id) => alive.has(id),
        graceMs: 0,
        logger,
      });
    const [r1, r2] = [await make('r1'), await make('r2')];
    const first = await r1.claim('cam-1', 'f-5', 'fp-5');
    if (first.kind !== 'new') throw new Error('expected a new claim');
    expect(JSON.parse((await redis.get(`${keyPrefix}ledger:cam-1:f-5`))!)).toMatchObject({
      f: 'fp-5',
      p: 'r1',
    });
    let waited: unknown = null;
    const second = Promise.resolve(r2.claim('cam-1', 'f-5', 'fp-5')).then((c) => {
      waited = c;
      return c;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(waited).toBeNull();
    first.settle('answer-5', { remember: true });
    expect(await second).toEqual({ kind: 'answered', answer: 'answer-5' });

    // A retryable outcome takes the marker away: the next replica answers the frame itself.
    const busy = await r1.claim('cam-1', 'f-6', 'fp-6');
    if (busy.kind !== 'new') throw new Error('expected a new claim');
    busy.settle('busy', { remember: false });
    await expect.poll(() => redis.exists(`${keyPrefix}ledger:cam-1:f-6`)).toBe(0);
    expect((await r2.claim('cam-1', 'f-6', 'fp-6')).kind).toBe('new');

    // Marked by a replica that is gone: taken over, not waited for.
    await redis.set(`${keyPrefix}ledger:cam-1:f-7`, JSON.stringify({ f: 'fp-7', p: 'r9', t: Date.now() }));
    expect((await r2.claim('cam-1', 'f-7', 'fp-7')).kind).toBe('new');
    expect(JSON.parse((await redis.get(`${keyPrefix}ledger:cam-1:f-7`))!)).toMatchObject({ p: 'r2' });
  });

  it('without a limit the shared limiter is the memory one (no Redis round trip)', async () => {
    const { keyPrefix, link } = await setup('nolimit');
    const local = createFrameRateLimiter({ perSecond: undefined });
    expect(createSharedRateLimiter({ local, link: await link(), keyPrefix, logger })).toBe(local);
  });
});

describe('what the shared state relies on', () => {
  it('the registry records a revocation made elsewhere, for this credential only', () => {
    const registry = createDeviceRegistry([
      { id: 'cam-1', token: 'token-one-1111' },
      { id: 'cam-2', token: 'token-two-2222' },
    ]);
    expect(registry.credentialSha256('cam-1')).toBe(sha('token-one-1111'));
    // An old credential of cam-2: recorded, cam-2 stays in.
    expect(registry.revokeCredential('cam-2', sha('an-older-token'))).toBe(false);
    expect(registry.verify('cam-2', 'token-two-2222')).toBe(true);
    expect(registry.revokeCredential('cam-1', sha('token-one-1111'))).toBe(true);
    expect(registry.verify('cam-1', 'token-one-1111')).toBe(false);
    expect(registry.revokedCredentials()).toEqual(
      expect.arrayContaining([
        { deviceId: 'cam-1', sha256: sha('token-one-1111') },
        { deviceId: 'cam-2', sha256: sha('an-older-token') },
      ]),
    );
    // A reload listing cam-1 with the revoked token keeps it out.
    const change = registry.replace([{ id: 'cam-1', token: 'token-one-1111' }]);
    expect(change.stillRevoked).toEqual(['cam-1']);
  });

  it("the monitor's snapshot is the union: the replica a device is connected to wins", () => {
    let t = 1000;
    const monitor = createFleetMonitor({ now: () => t });
    monitor.deviceConnected('cam-1');
    monitor.deviceDisconnected('cam-1');
    const seen: number[] = [];
    monitor.subscribe(() => seen.push(t));
    const peer = (deviceId: string, connected: boolean, lastSeen: number): DeviceView => ({
      ...monitor.local().devices[0]!,
      deviceId,
      connected,
      lastSeen,
      answered: 7,
    });
    const peers = {
      devices: [peer('cam-1', true, 500), peer('cam-2', false, 900)],
      recent: [
        { at: 2000, deviceId: 'cam-2', frameId: 'x', local: null, cloud: null, status: 'ok', latencyMs: 3 },
      ],
    };
    monitor.setPeers(peers);
    t = 1500;
    monitor.setPeers(peers); // the same view again: no change to tell
    expect(seen).toEqual([1000]);
    const snap = monitor.snapshot();
    expect(snap.devices.map((d) => [d.deviceId, d.connected, d.answered])).toEqual([
      ['cam-1', true, 7],
      ['cam-2', false, 7],
    ]);
    expect(snap.recent.map((r) => r.frameId)).toEqual(['x']);
    expect(monitor.local().devices.map((d) => d.deviceId)).toEqual(['cam-1']);
  });

  it('--redis-url and --redis-key-prefix make the redis settings; a non-redis URL is refused', async () => {
    const base = ['--models-dir', '/tmp', '--device', 'cam-1:token-one-1111'];
    const ok = await gatewayConfigFromCli(
      [...base, '--redis-url', 'redis://10.0.0.5:6380/2', '--redis-key-prefix', 'fleet-a:'],
      {},
    );
    expect(ok.ok === true && ok.config.redis).toEqual({
      url: 'redis://10.0.0.5:6380/2',
      keyPrefix: 'fleet-a:',
      ledgerTtlSeconds: 600,
      commandTimeoutMs: 500,
    });
    const env = await gatewayConfigFromCli(base, { SQUEEZEGATE_REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(env.ok === true && env.config.redis?.keyPrefix).toBe('squeezegate:');
    const none = await gatewayConfigFromCli(base, {});
    expect(none.ok === true && none.config.redis).toBeUndefined();
    const bad = await gatewayConfigFromCli([...base, '--redis-url', 'http://127.0.0.1:6379'], {});
    expect(bad.ok).toBe(false);
  });
});
