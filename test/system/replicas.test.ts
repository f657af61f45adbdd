// Two gateway processes with the real model on one real Redis (issue 13 §1): a frame answered by
// one replica and resent to the other is answered from the shared ledger (inferences counted in
// each one's /metrics); a revocation on A refuses the device on B within a second; either
// replica's dashboard and /metrics show the devices of both. Then Redis becomes unreachable for
// a third replica (a relay in between, cut and restored, the shared server untouched): it keeps
// answering, says so (log, /readyz, squeezegate_redis_up) and writes back what it answered.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels } from '../support/env.ts';
import { createRedisRelay, REDIS_URL, testRedis, uniquePrefix } from '../support/redis.ts';
import { edge, http, type Replica, sample, startReplica, waitFor } from './replicas-support.ts';

const ADMIN = 'replicas-admin-token-0123';
const DEVICES = { 'cam-a': 'replica-token-a1', 'cam-b': 'replica-token-b2', 'cam-c': 'replica-token-c3' };
const OK = 'squeezegate_frames_total{outcome="ok"}';
const DUPLICATES = 'squeezegate_duplicate_frames_total';

describe.skipIf(!haveRealModels)('gateway replicas on one Redis', () => {
  const keyPrefix = uniquePrefix('replicas');
  const redis = testRedis(keyPrefix);
  const replicas: Replica[] = [];
  const start = async (redisUrl: string) => {
    const r = await startReplica([
      ...['--redis-url', redisUrl, '--redis-key-prefix', keyPrefix, '--admin-token', ADMIN],
      ...Object.entries(DEVICES).flatMap(([id, token]) => ['--device', `${id}:${token}`]),
    ]);
    replicas.push(r);
    return r;
  };
  let a: Replica;
  let b: Replica;
  let image: Buffer;
  beforeAll(async () => {
    [a, b] = await Promise.all([start(REDIS_URL), start(REDIS_URL)]);
    image = await readFile(path.join(datasetDir, 'n01443537_goldfish.jpg'));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await redis.close();
  });

  it('a frame answered by A and resent to B under the same id is answered from the ledger', async () => {
    const onA = await edge(a.edgeUrl, 'cam-a', DEVICES['cam-a']);
    expect(onA.messages[0]).toMatchObject({ type: 'welcome' });
    onA.send('fish-1', image);
    const [, answer] = await onA.received(2);
    expect(answer).toMatchObject({ type: 'result', frameId: 'fish-1' });
    onA.ws.terminate();
    await waitFor(
      async () => (await redis.client.exists(`${keyPrefix}ledger:cam-a:fish-1`)) === 1,
      'the answer in Redis',
    );

    const onB = await edge(b.edgeUrl, 'cam-a', DEVICES['cam-a']);
    onB.send('fish-1', image);
    const [, again] = await onB.received(2);
    expect(again).toEqual(answer);
    const [onAMetrics, onBMetrics] = await Promise.all([http(a, ADMIN).metrics(), http(b, ADMIN).metrics()]);
    // One inference in the fleet: on A; B answered from the ledger.
    expect(sample(onAMetrics, OK)).toBe(1);
    expect(sample(onBMetrics, OK)).toBeNull();
    expect(sample(onBMetrics, DUPLICATES)).toBe(1);
    onB.ws.close();
  });

  it("either replica's dashboard and /metrics show the devices of both", async () => {
    const onA = await edge(a.edgeUrl, 'cam-a', DEVICES['cam-a']);
    const onB = await edge(b.edgeUrl, 'cam-b', DEVICES['cam-b']);
    const connected = async (r: Replica) =>
      (await http(r, ADMIN).snapshot()).devices
        .filter((d) => d.connected)
        .map((d) => d.deviceId)
        .sort();
    for (const r of [a, b]) {
      await waitFor(
        async () => (await connected(r)).join() === 'cam-a,cam-b',
        'both devices connected in the view',
      );
      const metrics = await http(r, ADMIN).metrics();
      expect(sample(metrics, 'squeezegate_edge_frames{device="cam-a"}')).not.toBeNull();
      expect(sample(metrics, 'squeezegate_edge_frames{device="cam-b"}')).not.toBeNull();
      expect(sample(metrics, 'squeezegate_redis_up')).toBe(1);
    }
    onA.ws.close();
    onB.ws.close();
  });

  it('a revocation through A refuses the device on B within a second', async () => {
    const onB = await edge(b.edgeUrl, 'cam-b', DEVICES['cam-b']);
    expect(onB.messages[0]).toMatchObject({ type: 'welcome' });
    const sentAt = performance.now();
    const res = await http(a, ADMIN).revoke('cam-b');
    expect(res.status).toBe(200);
    const closed = await onB.closed;
    expect(closed.code).toBe(1008);
    expect(closed.at - sentAt).toBeLessThan(1000);
    expect(onB.messages.at(-1)).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const again = await edge(b.edgeUrl, 'cam-b', DEVICES['cam-b']);
    expect(again.messages[0]).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
  });

  it('Redis unreachable: the replica keeps answering, says so, and writes back after', async () => {
    await using relay = await createRedisRelay();
    const c = await start(relay.url);
    const cHttp = http(c, ADMIN);
    expect((await cHttp.readyz()).state).toMatchObject({ store: 'redis', up: true });

    relay.cut();
    await waitFor(async () => (await cHttp.readyz()).state?.up === false, 'C to see Redis down');
    expect(await cHttp.readyz()).toMatchObject({ status: 'ready', state: { up: false, outages: 1 } });
    expect(sample(await cHttp.metrics(), 'squeezegate_redis_up')).toBe(0);
    expect(c.logs.some((l) => l.msg === 'redis is down: serving from memory until it is back')).toBe(true);

    const onC = await edge(c.edgeUrl, 'cam-c', DEVICES['cam-c']);
    expect(onC.messages[0]).toMatchObject({ type: 'welcome' });
    onC.send('fish-2', image);
    onC.send('fish-2', image);
    const [, answer, repeat] = await onC.received(3);
    expect(answer).toMatchObject({ type: 'result', frameId: 'fish-2' });
    expect(repeat).toEqual(answer);
    onC.ws.close();
    const during = await cHttp.metrics();
    expect(sample(during, OK)).toBe(1);
    expect(sample(during, DUPLICATES)).toBe(1);

    relay.restore();
    await waitFor(async () => (await cHttp.readyz()).state?.pendingAnswers === 0, 'the answers written back');
    expect((await cHttp.readyz()).state).toMatchObject({ up: true, outages: 1 });
    expect(sample(await cHttp.metrics(), 'squeezegate_redis_up')).toBe(1);
    expect(c.logs.some((l) => l.msg === 'redis is back: resynchronising shared state')).toBe(true);

    // Answered once in the fleet: the frame resent to A is answered from what C wrote back.
    const before = sample(await http(a, ADMIN).metrics(), OK);
    const onA = await edge(a.edgeUrl, 'cam-c', DEVICES['cam-c']);
    onA.send('fish-2', image);
    const [, fromLedger] = await onA.received(2);
    expect(fromLedger).toEqual(answer);
    expect(sample(await http(a, ADMIN).metrics(), OK)).toBe(before);
    onA.ws.close();
  });
});
