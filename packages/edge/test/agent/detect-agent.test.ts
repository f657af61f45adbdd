import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createDetectAgent,
  createPrivacyGuard,
  type DetectRecord,
  type GatewayLink,
  type LinkAnswer,
  openFrameSource,
  summarizeDetections,
} from '@squeezegate/edge';
import {
  type Detection,
  type Detector,
  DetectSchema,
  getDetectorSpec,
  PrivacySchema,
} from '@squeezegate/shared';
import { pino } from 'pino';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fakeLink } from '../../../../test/support/fake-link.ts';

/** A detector whose findings are scripted per frame size (frames differ by width). */
function scriptedDetector(byWidth: Record<number, Detection[]>): Detector {
  return {
    spec: getDetectorSpec('yolox-nano-416')!,
    labels: ['person', 'bicycle', 'car'],
    async detect(image, options) {
      const floor = options?.scoreThreshold ?? 0.3;
      const detections = (byWidth[image.width] ?? []).filter((d) => d.score >= floor);
      return { detections, inferMs: 1, preMs: 1, tiles: 1 };
    },
    async close() {},
    async [Symbol.asyncDispose]() {},
  };
}

const car = (score: number, x = 10): Detection => ({
  box: [x, 10, x + 60, 50],
  classIndex: 2,
  label: 'car',
  score,
});

const cab: LinkAnswer = {
  kind: 'result',
  rttMs: 3,
  result: {
    type: 'result',
    frameId: 'x',
    model: 'cloud',
    inferMs: 1,
    top: [
      { index: 468, label: 'cab', p: 0.7 },
      { index: 436, label: 'station wagon', p: 0.1 },
    ],
  },
};

async function frames(widths: number[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-detect-'));
  for (const [i, width] of widths.entries()) {
    const jpg = await sharp({ create: { width, height: 120, channels: 3, background: '#556677' } })
      .jpeg()
      .toBuffer();
    await writeFile(path.join(dir, `${i}.jpg`), jpg);
  }
  await writeFile(path.join(dir, 'z-broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]));
  return dir;
}

async function run(byWidth: Record<number, Detection[]>, link: GatewayLink | null) {
  const dir = await frames([200, 201, 202, 203]);
  const records: DetectRecord[] = [];
  const privacy = await createPrivacyGuard({
    config: PrivacySchema.parse({ faces: 'off' }),
    faceDetector: null,
  });
  const agent = createDetectAgent({
    deviceId: 'cam-d',
    detector: scriptedDetector(byWidth),
    link,
    config: DetectSchema.parse({}),
    privacy,
    quality: 80,
    deadlineMs: 500,
    maxInFlight: 4,
    logger: pino({ level: 'silent' }),
    onRecord: (r) => records.push(r),
  });
  await agent.run(
    await openFrameSource({ logger: pino({ level: 'silent' }), scale: { shortSide: 256 }, source: dir }),
  );
  return records.sort((a, b) => a.seq - b.seq);
}

describe('detect agent', () => {
  const script = {
    200: [car(0.9)], // confident: stays local
    201: [car(0.9), car(0.35, 100)], // one uncertain car: its crop goes
    202: [{ ...car(0.15), label: 'car' }], // nothing at 0.3, a near miss: the frame goes
    203: [], // empty
  };

  it('sends only uncertain crops and near-miss frames; the cloud refines the car', async () => {
    const link = fakeLink(() => cab);
    const records = await run(script, link);
    expect(records).toHaveLength(5);
    const [confident, uncertain, nearMiss, empty, broken] = records;
    expect(confident!.decision.kind).toBe('local');
    expect(confident!.offloads).toEqual([]);
    expect(uncertain!.decision.kind).toBe('offload');
    expect(uncertain!.offloads).toHaveLength(1);
    expect(uncertain!.offloads[0]).toMatchObject({
      kind: 'object',
      payloadId: 'cam-d:1#o0',
      verdict: { kind: 'confirmed' },
    });
    expect(uncertain!.detections).toContainEqual(
      expect.objectContaining({ label: 'car', source: 'cloud', refined: 'cab', score: 0.35 }),
    );
    expect(nearMiss!.offloads[0]!.kind).toBe('frame');
    expect(nearMiss!.scene).toMatchObject({ label: 'cab' });
    expect(empty!.decision).toEqual({ kind: 'local', reason: 'nothing found' });
    expect(broken!.error?.code).toBe('IMAGE_UNDECODABLE');
    // Crops are square, cloud-sized, and carry the edge's own label.
    const crop = link.sent.find((h) => h.frameId === 'cam-d:1#o0')!;
    expect(crop).toMatchObject({ view: 'crop', mime: 'image/jpeg', local: { label: 'car', p: 0.35 } });
    expect(link.sent.map((h) => h.frameId).sort()).toEqual(['cam-d:1#o0', 'cam-d:2#frame']);
    const summary = summarizeDetections(records);
    expect(summary).toMatchObject({ frames: 5, failed: 1, crops: 1, framesSent: 1, verified: 1, scenes: 1 });
    expect(summary.bytesSent).toBeGreaterThan(0);
    expect(summary.bytesSent).toBeLessThan(summary.bytesWhole);
  });

  it('without an answer an uncertain detection stands on its own score', async () => {
    const records = await run(
      script,
      fakeLink(() => ({ kind: 'timeout', afterMs: 500 })),
    );
    const uncertain = records[1]!;
    expect(uncertain.offloads[0]!.cloud.status).toBe('timeout');
    expect(uncertain.detections.map((d) => [d.score, d.source])).toEqual([
      [0.9, 'local'],
      [0.35, 'local'],
    ]);
  });

  it('a cloud that sees something else entirely drops the detection', async () => {
    const teapot: LinkAnswer = {
      ...cab,
      result: { ...cab.result, top: [{ index: 849, label: 'teapot', p: 0.95 }] },
    } as LinkAnswer;
    const records = await run(
      script,
      fakeLink(() => teapot),
    );
    expect(records[1]!.offloads[0]!.verdict?.kind).toBe('rejected');
    expect(records[1]!.detections).toHaveLength(1);
    expect(records[1]!.local).toHaveLength(2);
  });
});
