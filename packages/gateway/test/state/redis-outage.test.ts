// Redis unreachable for one replica (a relay between it and the shared server, cut and
// restored): it keeps answering from memory, says so in /readyz and a metric, and writes back
// what it did meanwhile once Redis is back. The other replica talks to Redis directly.
import { createHash } from 'node:crypto';
import type { Gateway } from '@squeezegate/gateway';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisRelay, REDIS_URL, testRedis, uniquePrefix } from '../../../../test/support/redis.ts';
import { ADMIN, device, frame, jpeg, startGateway } from '../server/harness.ts';

const until = async (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const readyz = async (g: Gateway) =>
  (await (await fetch(`${g.url}/readyz`)).json()) as {
    status: string;
    state: { up: boolean; outages: number; pendingAnswers: number };
  };
const redisUp = async (g: Gateway) =>
  /^squeezegate_redis_up (\d)$/m.exec(
    await (await fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text(),
  )?.[1];

describe('a Redis outage is not a gateway outage', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('serves from memory, says so, and resynchronises its answers and revocations after', async () => {
    const keyPrefix = uniquePrefix('outage');
    const redis = testRedis(keyPrefix);
    cleanup.push(() => redis.close());
    const relay = await createRedisRelay();
    cleanup.push(() => relay.close());
    const start = async (url: string, replicaId: string) => {
      const s = await startGateway({ adminToken: ADMIN, redis: { url, keyPrefix, replicaId } });
      cleanup.push(() => s.gateway.close());
      return s;
    };
    const a = await start(relay.url, 'behind-relay');
    const b = await start(REDIS_URL, 'direct');
    expect((await readyz(a.gateway)).state.up).toBe(true);

    relay.cut();
    await until(async () => !(await readyz(a.gateway)).state.up, 'A to notice');
    const ready = await readyz(a.gateway);
    expect(ready).toMatchObject({ status: 'ready', state: { store: 'redis', up: false, outages: 1 } });
    expect(await redisUp(a.gateway)).toBe('0');

    // A keeps answering, and answers a repeat once, from memory.
    const image = await jpeg(50);
    const onA = await device(a.gateway.edgeUrl, 'cam-1');
    expect(onA.messages[0]).toMatchObject({ type: 'welcome' });
    onA.ws.send(frame('f-1', image));
    onA.ws.send(frame('f-1', image));
    const [, answer, repeat] = await onA.received(3);
    expect(answer).toMatchObject({ type: 'result', frameId: 'f-1' });
    expect(repeat).toEqual(answer);
    expect(a.backend.inferences()).toBe(1);
    expect((await readyz(a.gateway)).state.pendingAnswers).toBe(1);
    onA.ws.close();
    // A revocation on A while cut off: in force on A at once, on B once Redis is back.
    const onB = await device(b.gateway.edgeUrl, 'cam-2');
    expect(onB.messages[0]).toMatchObject({ type: 'welcome' });
    const res = await fetch(`${a.gateway.url}/admin/devices/cam-2/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(res.status).toBe(200);
    expect((await device(a.gateway.edgeUrl, 'cam-2')).messages[0]).toMatchObject({ code: 'AUTH_FAILED' });
    expect(await redis.client.exists(`${keyPrefix}ledger:cam-1:f-1`)).toBe(0);

    relay.restore();
    await until(async () => (await readyz(a.gateway)).state.up, 'A to reconnect');
    await until(async () => (await readyz(a.gateway)).state.pendingAnswers === 0, 'answers written back');
    expect(await redisUp(a.gateway)).toBe('1');
    expect(await redis.client.exists(`${keyPrefix}ledger:cam-1:f-1`)).toBe(1);
    const closed = await onB.closed;
    expect(closed.code).toBe(1008);
    expect(onB.messages.at(-1)).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });

    // The answer A made during the outage now answers the repeat on B: no second inference.
    const moved = await device(b.gateway.edgeUrl, 'cam-1');
    moved.ws.send(frame('f-1', image));
    const [, fromLedger] = await moved.received(2);
    expect(fromLedger).toEqual(answer);
    expect(b.backend.inferences()).toBe(0);
    moved.ws.close();
  });

  it('starts from memory when Redis is unreachable at start, and syncs once it is reachable', async () => {
    const keyPrefix = uniquePrefix('late');
    const redis = testRedis(keyPrefix);
    cleanup.push(() => redis.close());
    await redis.client.hset(`${keyPrefix}revoked`, {
      // cam-2's token sha256 (token-two-2222), revoked by a replica before this one started.
      [`cam-2 ${sha256('token-two-2222')}`]: String(Date.now()),
    });
    const relay = await createRedisRelay();
    cleanup.push(() => relay.close());
    relay.cut();
    const { gateway } = await startGateway({ adminToken: ADMIN, redis: { url: relay.url, keyPrefix } });
    cleanup.push(() => gateway.close());
    expect((await readyz(gateway)).state.up).toBe(false);
    const early = await device(gateway.edgeUrl, 'cam-2');
    expect(early.messages[0]).toMatchObject({ type: 'welcome' });
    relay.restore();
    // The revocation read at the first sync closes the connection it let in while cut off.
    expect((await early.closed).code).toBe(1008);
    expect((await device(gateway.edgeUrl, 'cam-2')).messages[0]).toMatchObject({ code: 'AUTH_FAILED' });
  });
});

function sha256(text: string) {
  return createHash('sha256').update(text).digest('hex');
}
