// Issue 13 §6: three gateway processes on loopback sharing the real Redis and the real Mosquitto,
// four edge agent processes given every gateway's URL. The replica two of them are on is SIGKILLed
// mid-run with frames in its queue. Those devices move to another replica; every frame of every
// agent has exactly one record, answered by the cloud; and no frame is classified twice, counted
// at the backends: the killed replica's classifications are what it let out before it died (its
// answers in the shared ledger, read while it is frozen just before the kill), the survivors'
// are their /metrics batch counters; together they make exactly one per frame.
// A revocation through one replica refusing the device on another within a second, and the
// fleet view on either replica's dashboard and /metrics, are tested in replicas.test.ts.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetDir, haveRealModels } from '../support/env.ts';
import { REDIS_URL, testRedis, uniquePrefix } from '../support/redis.ts';
import {
  type AgentProcess,
  BROKER_URL,
  createMutingRelay,
  freeze,
  kill,
  type LedgerView,
  linkStats,
  readLedger,
  readRecords,
  startAgent,
  subscribe,
} from './fleet-support.ts';
import { http, type Replica, sample, startReplica, waitFor } from './replicas-support.ts';

const ADMIN = 'fleet-admin-token-0123';
const FRAMES = 60;
/** Answers from the doomed replica to each of its devices before it is killed: the run is under way. */
const BEFORE_KILL = 5;
const DEVICES = {
  'cam-1': 'fleet-token-cam-1',
  'cam-2': 'fleet-token-cam-2',
  'cam-3': 'fleet-token-cam-3',
  'cam-4': 'fleet-token-cam-4',
} as const;
type Device = keyof typeof DEVICES;
/** Frames inferred, at a backend: the sum of the batch sizes. */
const INFERRED = 'squeezegate_batch_size_sum';

describe.skipIf(!haveRealModels || process.platform !== 'linux')('a fleet of gateways loses one', () => {
  const keyPrefix = uniquePrefix('fleet');
  const topicPrefix = `sg-test-${keyPrefix.split(':')[2]}`;
  const redis = testRedis(keyPrefix);
  const replicas: Replica[] = [];
  const agents: AgentProcess[] = [];
  const relays: { close(): Promise<void> }[] = [];
  let mqtt: Awaited<ReturnType<typeof subscribe>> | null = null;
  afterAll(async () => {
    for (const a of agents) a.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => kill(r.child)));
    await Promise.all(relays.map((r) => r.close()));
    await mqtt?.close();
    await redis.close();
  });

  it('SIGKILL the replica a device is on: it moves, no frame is lost, none is classified twice', async () => {
    mqtt = await subscribe(topicPrefix);
    const events = mqtt;
    const args = [
      ...['--redis-url', REDIS_URL, '--redis-key-prefix', keyPrefix, '--admin-token', ADMIN],
      ...['--mqtt-url', BROKER_URL, '--mqtt-prefix', topicPrefix],
      ...Object.entries(DEVICES).flatMap(([id, token]) => ['--device', `${id}:${token}`]),
      // Frames wait up to 300 ms for their batch, so the kill finds some in flight; the queue
      // holds more than the agents ever have outstanding, so none is shed as BUSY.
      ...['--max-batch', '64', '--max-queue-delay-ms', '300', '--max-queue', '1024'],
    ];
    const [a, b, c] = await Promise.all([startReplica(args), startReplica(args), startReplica(args)]);
    replicas.push(a!, b!, c!);
    // Each agent dials the first URL of its list, and the next one round robin when it is gone.
    // cam-1 reaches the first replica through a relay that can lose its answers.
    const relay = await createMutingRelay(a!.port);
    relays.push(relay);
    const lists: Record<Device, { edgeUrl: string }[]> = {
      'cam-1': [relay, b!, c!],
      'cam-2': [a!, c!, b!],
      'cam-3': [b!, c!, a!],
      'cam-4': [c!, a!, b!],
    };
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-fleet-'));
    for (const [deviceId, list] of Object.entries(lists)) {
      agents.push(
        startAgent({
          deviceId,
          token: DEVICES[deviceId as Device],
          gateways: list.map((r) => r.edgeUrl),
          source: datasetDir,
          frames: FRAMES,
          out: path.join(dir, `${deviceId}.jsonl`),
        }),
      );
    }

    // Which gateway id each replica has: the one that said each device connected (over MQTT).
    const connectedOn = (deviceId: string) =>
      events.states().filter((s) => s.deviceId === deviceId && s.state === 'connected');
    await waitFor(
      () => Object.keys(DEVICES).every((d) => connectedOn(d).length > 0),
      'every device connected',
      120_000,
    );
    const idOf = (deviceId: Device) => connectedOn(deviceId)[0]!.gateway;
    const [idA, idB, idC] = [idOf('cam-1'), idOf('cam-3'), idOf('cam-4')];
    expect(new Set([idA, idB, idC]).size).toBe(3);
    expect(idOf('cam-2')).toBe(idA);

    const answeredBy = (gateway: string, deviceId: string) =>
      events.answers().filter((x) => x.gateway === gateway && x.deviceId === deviceId).length;
    await waitFor(
      () => answeredBy(idA, 'cam-1') >= BEFORE_KILL && answeredBy(idA, 'cam-2') >= BEFORE_KILL,
      'answers from the first replica to both of its devices',
      120_000,
    );
    // Answers to cam-1 are lost on the way from now on: the replica has them in the shared ledger,
    // the agent never sees them and sends those frames again to the next replica.
    relay.mute();
    await waitFor(() => relay.droppedResults().length > 0, 'an answer cam-1 never reads', 120_000);
    // Killed while frames wait in its queue: sent, and never to be answered there.
    await waitFor(
      async () => (sample(await http(a!, ADMIN).metrics(), 'squeezegate_queue_depth') ?? 0) >= 1,
      'frames in the queue of the first replica',
      120_000,
    );
    // Frozen first: what it sent is with Redis, the agents and the broker, and nothing follows.
    // A round trip to Redis after the freeze lets Redis read whatever the replica wrote before it.
    await freeze(a!.child);
    await redis.client.ping();
    const atKill: Record<string, LedgerView> = {
      'cam-1': await readLedger(redis.client, keyPrefix, 'cam-1'),
      'cam-2': await readLedger(redis.client, keyPrefix, 'cam-2'),
    };
    await kill(a!.child);
    const lostAnswers = relay.droppedResults();

    const codes = await Promise.all(agents.map((x) => x.exited));
    for (const [i, [code]] of codes.entries()) expect(code, agents[i]!.stderr().slice(-3000)).toBe(0);

    // None lost, none recorded twice: every frame of every agent has exactly one record, seq
    // 0..n-1, answered by the cloud.
    for (const agent of agents) {
      const records = readRecords(agent.out);
      expect(records.map((r) => r.seq).sort((x, y) => x - y)).toEqual([...Array(FRAMES).keys()]);
      expect(new Set(records.map((r) => r.frameId)).size).toBe(FRAMES);
      expect(records.filter((r) => r.cloud?.status !== 'ok').map((r) => r.cloud)).toEqual([]);
    }

    // The devices of the dead replica moved; the others stayed where they were.
    for (const agent of agents) {
      const link = linkStats(agent);
      expect(link, agent.stderr().slice(-3000)).toBeDefined();
      if (agent.deviceId === 'cam-1' || agent.deviceId === 'cam-2') {
        expect(link!.failovers).toBeGreaterThanOrEqual(1);
        expect(connectedOn(agent.deviceId).some((s) => s.gateway !== idA)).toBe(true);
      } else {
        expect(link!.failovers).toBe(0);
      }
    }
    // The dead replica reads as offline: its last will, published by the broker.
    await waitFor(
      () =>
        events.got.some(
          (m) => m.topic === `${topicPrefix}/gateways/${idA}/available` && m.text === 'offline',
        ),
      'the last will of the killed replica',
      30_000,
    );

    // Counted at the backends. The killed replica let out an answer for each frame in the shared
    // ledger at the freeze (it writes there before it answers the device, and the answer is an
    // inference of its own: its devices were nowhere else). Everything else was inferred by the
    // two survivors. One frame classified twice makes the sum exceed the frames; one lost, the
    // records above.
    expect(Object.values(atKill).flatMap((v) => v.errors)).toEqual([]);
    expect(Object.values(atKill).flatMap((v) => v.inFlight.filter((f) => f.replica !== idA))).toEqual([]);
    const byA = Object.values(atKill).flatMap((v) => v.answered);
    const [metricsB, metricsC] = await Promise.all([http(b!, ADMIN).metrics(), http(c!, ADMIN).metrics()]);
    const byB = sample(metricsB, INFERRED) ?? 0;
    const byC = sample(metricsC, INFERRED) ?? 0;
    const total = FRAMES * agents.length;
    expect(byA.length + byB + byC, JSON.stringify({ byA: byA.length, byB, byC })).toBe(total);
    // The answers lost on the way to cam-1 were in the ledger, and the survivors answered the
    // frames sent again from there: counted as duplicates, not inferred.
    expect(lostAnswers.filter((f) => !byA.includes(f))).toEqual([]);
    const duplicates = [metricsB, metricsC].map((m) => sample(m, 'squeezegate_duplicate_frames_total') ?? 0);
    expect(duplicates[0]! + duplicates[1]!).toBeGreaterThanOrEqual(lostAnswers.length);

    // The same, frame by frame, from the answers the replicas published: the survivors' answers
    // (complete: they are alive and publish at QoS 1) and the dead one's (those that got out,
    // each of them after its ledger write) never name a frame twice.
    await waitFor(
      () => events.answers().filter((x) => x.gateway !== idA).length >= byB + byC,
      "the survivors' answers over MQTT",
      30_000,
    );
    const published = events.answers();
    const fromSurvivors = published.filter((x) => x.gateway !== idA);
    expect(fromSurvivors).toHaveLength(byB + byC);
    const fromA = published.filter((x) => x.gateway === idA).map((x) => x.frameId);
    expect(fromA.filter((f) => !byA.includes(f))).toEqual([]);
    const frames = published.map((x) => x.frameId);
    expect(frames.filter((f, i) => frames.indexOf(f) !== i)).toEqual([]);
    // Every frame the killed replica had answered is none of the survivors' (none again).
    expect(fromSurvivors.filter((x) => byA.includes(x.frameId))).toEqual([]);
    expect(fromSurvivors.filter((x) => lostAnswers.includes(x.frameId))).toEqual([]);
    // The frames it held in flight were taken over by a survivor (or waited out), once each.
    const heldInFlight = Object.values(atKill).flatMap((v) => v.inFlight.map((f) => f.frameId));
    expect(heldInFlight.filter((f) => !fromSurvivors.some((x) => x.frameId === f))).toEqual([]);
  });
});
