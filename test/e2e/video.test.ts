// The agent on video, as a user runs it: squeezegate-edge reading the sample clips through
// ffmpeg, a real gateway, events to a JSON-lines file and to the real Mosquitto broker.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DetectRecord, FrameRecord, TrackEvent } from '@squeezegate/edge';
import { createGateway } from '@squeezegate/gateway';
import { GatewayConfigSchema } from '@squeezegate/shared';
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { runNode, userEnv } from '../support/cli.ts';
import { datasetDir, haveDetectionModels, modelsDir, repoRoot, testLogger } from '../support/env.ts';

const EDGE = path.join(repoRoot, 'packages/edge/dist/main.js');
const VIDEOS = path.resolve(path.dirname(datasetDir), 'video-sample');
const CAR = path.join(VIDEOS, 'car-detection.mp4');
const BOTTLES = path.join(VIDEOS, 'bottle-detection.mp4');
const haveVideos = existsSync(CAR) && existsSync(BOTTLES);
if (!haveVideos && process.env.CI) throw new Error(`video tests need the sample clips in ${VIDEOS}`);

const lines = async <T>(file: string): Promise<T[]> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

describe.skipIf(!haveDetectionModels || !haveVideos)('squeezegate-edge on video', () => {
  it('detect on the parking lot: a result per analysed frame, still frames reused, tracks as events on file and MQTT', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-video-'));
    const out = path.join(dir, 'out.jsonl');
    const events = path.join(dir, 'events.jsonl');
    const prefix = `sg-test-${randomBytes(4).toString('hex')}`;
    const mqtt = await connectAsync('mqtt://127.0.0.1:1883');
    const received: TrackEvent[] = [];
    mqtt.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()) as TrackEvent));
    await mqtt.subscribeAsync(`${prefix}/events`, { qos: 1 });
    await using gateway = await createGateway({
      config: GatewayConfigSchema.parse({
        port: 0,
        modelsDir,
        devices: [{ id: 'lot-1', token: 'video-token-1' }],
      }),
      logger: testLogger,
    });
    const { code, stderr } = await runNode(
      [
        EDGE,
        ...['--task', 'detect', '--source', CAR, '--fps', '5'],
        ...['--gateway', gateway.edgeUrl, '--device-id', 'lot-1', '--token', 'video-token-1'],
        ...['--events', events, '--mqtt-url', 'mqtt://127.0.0.1:1883', '--mqtt-prefix', prefix],
        ...['--out', out, '--log-level', 'info', '--deadline-ms', '60000'],
      ],
      userEnv(),
    );
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/"msg":"using ffmpeg"/);
    const records = await lines<DetectRecord>(out);
    // 30.2 s at 5 fps: 151 frames analysed, each with exactly one result, in capture order.
    expect(records.length).toBeGreaterThanOrEqual(150);
    expect(records.length).toBeLessThanOrEqual(152);
    expect(new Set(records.map((r) => r.seq)).size).toBe(records.length);
    expect(records.every((r) => r.camera === 'car-detection' && r.error === null)).toBe(true);
    const kinds = records.map((r) => r.decision.kind);
    const reused = kinds.filter((k) => k === 'reused').length;
    // The parking lot is still most of the time: the gate keeps many frames off the detector.
    expect(reused).toBeGreaterThan(records.length / 4);
    expect(kinds.filter((k) => k === 'dropped')).toHaveLength(0); // a file read as fast as the model goes
    for (const r of records.filter((x) => x.decision.kind === 'reused')) {
      const from = records.find((x) => x.frameId === (r.decision as { from: string }).from);
      expect(from?.detections).toEqual(r.detections);
    }
    // Tracks: every event is a Frigate event of this camera; every track that started ended once.
    const fileEvents = await lines<TrackEvent>(events);
    expect(fileEvents.length).toBeGreaterThan(0);
    const ids = (type: string) => fileEvents.filter((e) => e.type === type).map((e) => e.after.id);
    expect(new Set(ids('new')).size).toBe(ids('new').length);
    expect(ids('end').sort()).toEqual(ids('new').sort());
    for (const e of fileEvents) {
      expect(e.after.camera).toBe('car-detection');
      expect(e.after.box).toHaveLength(4);
      expect(e.before.id).toBe(e.after.id);
    }
    const tracked = records.flatMap((r) =>
      r.detections.flatMap((d) => (d.trackId === undefined ? [] : [d.trackId])),
    );
    expect(tracked.length).toBeGreaterThan(0);
    // The same events reached the broker, in order.
    const deadline = Date.now() + 30_000;
    while (received.length < fileEvents.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await mqtt.endAsync();
    expect(received.map((e) => `${e.type}:${e.after.id}`)).toEqual(
      fileEvents.map((e) => `${e.type}:${e.after.id}`),
    );
  });

  it('two cameras from one config file share the model; each frame names its camera', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-cams-'));
    const out = path.join(dir, 'out.jsonl');
    const config = path.join(dir, 'edge.yaml');
    await writeFile(
      config,
      [
        'cameras:',
        '  - id: lot',
        `    source: { url: ${JSON.stringify(CAR)}, fps: 2 }`,
        '  - id: table',
        `    source: { url: ${JSON.stringify(BOTTLES)}, fps: 2 }`,
        '    policy: { kind: never }',
        '',
      ].join('\n'),
    );
    const { code, stderr } = await runNode(
      [
        EDGE,
        '--config',
        config,
        '--token',
        'unused-token',
        '--gateway',
        'ws://127.0.0.1:9/v1/edge',
        '--out',
        out,
      ],
      userEnv(),
    );
    expect(code, stderr).toBe(0);
    const records = await lines<FrameRecord>(out);
    const per = (camera: string) => records.filter((r) => r.camera === camera);
    // 30.2 s and 39.9 s at 2 fps.
    expect(per('lot').length).toBeGreaterThanOrEqual(59);
    expect(per('lot').length).toBeLessThanOrEqual(62);
    expect(per('table').length).toBeGreaterThanOrEqual(78);
    expect(per('table').length).toBeLessThanOrEqual(81);
    expect(per('table').every((r) => r.decision.kind !== 'offload')).toBe(true);
    expect(new Set(records.map((r) => r.frameId)).size).toBe(records.length);
    expect(records.every((r) => r.final !== null)).toBe(true);
  });

  it('a truncated video: the frames that decode get results, then a clear error and exit 0', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sg-trunc-'));
    const clip = path.join(dir, 'truncated.mp4');
    const bytes = await readFile(CAR);
    await writeFile(clip, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
    const out = path.join(dir, 'out.jsonl');
    const { code, stderr } = await runNode(
      [
        EDGE,
        '--source',
        clip,
        '--token',
        'unused-token',
        '--gateway',
        'ws://127.0.0.1:9/v1/edge',
        '--out',
        out,
      ],
      userEnv(),
    );
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/truncated or corrupt: decoded [\d.]+ s of 30\.2 s/);
    const records = await lines<FrameRecord>(out);
    // About 40 % of the 151 frames are in the bytes that remain.
    expect(records.length).toBeGreaterThan(20);
    expect(records.length).toBeLessThan(120);
    expect(records.every((r) => r.final !== null)).toBe(true);
  });
});
