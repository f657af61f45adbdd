// Two (or three) gateways in this process on the real Redis, each test under its own key prefix:
// what one replica answers, revokes, rate-limits or sees, the others know. Only the model is
// fake (it counts inferences).
import type { Gateway } from '@squeezegate/gateway';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL, testRedis, uniquePrefix } from '../../../../test/support/redis.ts';
import { ADMIN, DEVICES, device, frame, jpeg, startGateway } from '../server/harness.ts';

const until = async (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const metricsOf = async (g: Gateway) =>
  (await fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();

describe('gateway replicas sharing state in Redis', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const replicas = async (n: number, settings: Record<string, unknown> = {}) => {
    const keyPrefix = uniquePrefix('state');
    const redis = testRedis(keyPrefix);
    cleanup.push(() => redis.close());
    const started = [];
    for (let i = 0; i < n; i++) {
      const s = await startGateway({
        adminToken: ADMIN,
        redis: { url: REDIS_URL, keyPrefix, replicaId: `replica-${i}` },
        ...settings,
      });
      cleanup.push(() => s.gateway.close());
      started.push(s);
    }
    return { keyPrefix, redis: redis.client, started };
  };

  it('a frame answered by A and resent to B under the same id is answered from the ledger', async () => {
    const { started, redis, keyPrefix } = await replicas(2);
    const [a, b] = started as [(typeof started)[0], (typeof started)[0]];
    const image = await jpeg(30);
    const onA = await device(a.gateway.edgeUrl);
    onA.ws.send(frame('f-1', image));
    const [, answer] = await onA.received(2);
    expect(answer).toMatchObject({ type: 'result', frameId: 'f-1' });
    onA.ws.terminate();
    await until(async () => (await redis.exists(`${keyPrefix}ledger:cam-1:f-1`)) === 1, 'the shared answer');

    const onB = await device(b.gateway.edgeUrl);
    onB.ws.send(frame('f-1', image));
    // Same id, other bytes: a new frame (an agent that restarted its ids), classified on B.
    onB.ws.send(frame('f-2', image));
    onB.ws.send(frame('f-1', await jpeg(31)));
    // Answers come as they are ready, not in the order sent.
    const answers = (await onB.received(4)).slice(1);
    const same = JSON.stringify(answer);
    expect(answers.filter((m) => JSON.stringify(m) === same)).toHaveLength(1);
    expect(answers.filter((m) => m.type === 'result' && m.frameId === 'f-2')).toHaveLength(1);
    expect(answers.filter((m) => m.frameId === 'f-1' && JSON.stringify(m) !== same)).toMatchObject([
      { type: 'result' },
    ]);
    expect(a.backend.inferences()).toBe(1);
    expect(b.backend.inferences()).toBe(2);
    expect(b.gateway.counters()).toMatchObject({ framesIn: 2, duplicates: 1 });
    expect(await metricsOf(b.gateway)).toMatch(/^squeezegate_duplicate_frames_total 1$/m);
    onB.ws.close();
  });

  it('a frame still in flight on A, resent to B after a reconnect, is classified once', async () => {
    const { started } = await replicas(2);
    const [a, b] = started as [(typeof started)[0], (typeof started)[0]];
    const image = await jpeg(35);
    a.backend.hold();
    const onA = await device(a.gateway.edgeUrl);
    onA.ws.send(frame('f-1', image));
    await until(() => a.gateway.batching().running === 1, 'the frame in inference on A');
    // The link to A fails; the agent reconnects to B and resends the frame under its id.
    onA.ws.terminate();
    const onB = await device(b.gateway.edgeUrl);
    onB.ws.send(frame('f-1', image));
    await new Promise((r) => setTimeout(r, 100));
    expect(onB.messages).toHaveLength(1);
    a.backend.release();
    const [, answer] = await onB.received(2);
    expect(answer).toMatchObject({ type: 'result', frameId: 'f-1' });
    expect(answer?.top?.[0]?.index).toBe(1);
    expect(a.backend.inferences() + b.backend.inferences()).toBe(1);
    expect(b.gateway.counters()).toMatchObject({ framesIn: 0, duplicates: 1 });
    onB.ws.close();
  });

  it('a revocation on A closes the device on B at once, and a replica started later refuses it', async () => {
    const { started, keyPrefix } = await replicas(2);
    const [a, b] = started as [(typeof started)[0], (typeof started)[0]];
    const onB = await device(b.gateway.edgeUrl, 'cam-2');
    expect(onB.messages[0]).toMatchObject({ type: 'welcome' });
    const res = await fetch(`${a.gateway.url}/admin/devices/cam-2/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const revokedAt = Date.now();
    expect(res.status).toBe(200);
    const closed = await onB.closed;
    const ms = Date.now() - revokedAt;
    expect(closed.code).toBe(1008);
    expect(onB.messages.at(-1)).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    expect(ms).toBeLessThan(1000);
    const retry = await device(b.gateway.edgeUrl, 'cam-2');
    expect(retry.messages[0]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });

    // Persisted: a replica that starts now (with cam-2 in its config) keeps it out from the first hello.
    const c = await startGateway({ adminToken: ADMIN, redis: { url: REDIS_URL, keyPrefix } });
    cleanup.push(() => c.gateway.close());
    const onC = await device(c.gateway.edgeUrl, 'cam-2');
    expect(onC.messages[0]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const fine = await device(c.gateway.edgeUrl, 'cam-1');
    expect(fine.messages[0]).toMatchObject({ type: 'welcome' });
    // A new token lets it back in (as on one gateway).
    const reloaded = c.gateway.replaceDevices([DEVICES[0]!, { id: 'cam-2', token: 'a-brand-new-token' }]);
    expect(reloaded.added).toEqual(['cam-2']);
    fine.ws.close();
  });

  it('one token bucket per device across replicas', async () => {
    // Half a frame per second, a burst of one: the second frame within a second is over, wherever it goes.
    const { started } = await replicas(2, { maxFramesPerSecond: 0.5 });
    const [a, b] = started as [(typeof started)[0], (typeof started)[0]];
    const onA = await device(a.gateway.edgeUrl);
    onA.ws.send(frame('f-1', await jpeg(40)));
    const [, first] = await onA.received(2);
    expect(first).toMatchObject({ type: 'result' });
    const onB = await device(b.gateway.edgeUrl);
    onB.ws.send(frame('f-2', await jpeg(41)));
    const [, second] = await onB.received(2);
    expect(second).toMatchObject({ type: 'error', code: 'RATE_LIMITED', frameId: 'f-2' });
    onA.ws.close();
    onB.ws.close();
  });

  it('each replica shows the devices of both, in its snapshot and its metrics', async () => {
    const { started } = await replicas(2);
    const [a, b] = started as [(typeof started)[0], (typeof started)[0]];
    const onA = await device(a.gateway.edgeUrl, 'cam-1');
    const onB = await device(b.gateway.edgeUrl, 'cam-2');
    const ids = (g: Gateway) =>
      g.monitor
        .snapshot()
        .devices.map((d) => `${d.deviceId}:${d.connected}`)
        .sort();
    await until(() => ids(a.gateway).length === 2 && ids(b.gateway).length === 2, 'both devices on both');
    expect(ids(a.gateway)).toEqual(['cam-1:true', 'cam-2:true']);
    expect(ids(b.gateway)).toEqual(['cam-1:true', 'cam-2:true']);
    expect(a.gateway.monitor.local().devices.map((d) => d.deviceId)).toEqual(['cam-1']);
    const metrics = await metricsOf(a.gateway);
    expect(metrics).toMatch(/^squeezegate_edge_frames\{device="cam-2"\} 0$/m);
    expect(metrics).toMatch(/^squeezegate_redis_up 1$/m);
    const ready = await (await fetch(`${a.gateway.url}/readyz`)).json();
    expect(ready).toMatchObject({ status: 'ready', state: { store: 'redis', up: true } });

    // B goes away: its devices leave A's view once its heartbeat expires.
    onB.ws.terminate();
    await b.gateway.close();
    await until(() => ids(a.gateway).length === 1, "B's devices gone from A");
    expect(ids(a.gateway)).toEqual(['cam-1:true']);
    onA.ws.close();
  });

  it('without redis the state stays in memory and /readyz says so by saying nothing', async () => {
    const { gateway } = await startGateway({ adminToken: ADMIN });
    cleanup.push(() => gateway.close());
    const ready = (await (await fetch(`${gateway.url}/readyz`)).json()) as Record<string, unknown>;
    expect(ready.status).toBe('ready');
    expect(ready.state).toBeUndefined();
    expect(await metricsOf(gateway)).not.toMatch(/squeezegate_redis_up/);
  });
});
