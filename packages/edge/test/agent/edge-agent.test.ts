import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createEdgeAgent,
  createPolicy,
  type FrameRecord,
  type GatewayLink,
  type LinkAnswer,
  openFrameSource,
  summarize,
} from '@squeezegate/edge';
import { type Classifier, MODELS, type ModelSpec } from '@squeezegate/shared';
import { pino } from 'pino';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fakeLink } from '../../../../test/support/fake-link.ts';

const spec: ModelSpec = { ...MODELS[0], id: 'fake' };
const labels = Array.from({ length: 1000 }, (_, i) => `class-${i}`);

/** A classifier whose answer depends on the image's red level: red → sure of class 1, else unsure. */
const fakeClassifier: Classifier = {
  spec,
  async classify(views) {
    return views.map((v) => {
      const probs = new Float32Array(1000).fill(0.2 / 999);
      const red = v.pixels[0]! > 128;
      probs[red ? 1 : 2] = red ? 0.8 : 0.2;
      return { probs, inferMs: 1 };
    });
  },
  async close() {},
  async [Symbol.asyncDispose]() {},
};

async function frames(colours: [number, number, number][]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-agent-'));
  for (const [i, [r, g, b]] of colours.entries()) {
    const jpg = await sharp({ create: { width: 300, height: 256, channels: 3, background: { r, g, b } } })
      .jpeg()
      .toBuffer();
    await writeFile(path.join(dir, `${i}.jpg`), jpg);
  }
  await writeFile(path.join(dir, 'broken.jpg'), 'not an image');
  await writeFile(path.join(dir, 'manifest.csv'), 'file,class_index\n0.jpg,1\n1.jpg,5\n2.jpg,1\n');
  return dir;
}

const RED: [number, number, number] = [250, 10, 10];
const GREY: [number, number, number] = [120, 120, 120];

async function runAgent(link: GatewayLink | null) {
  const records: FrameRecord[] = [];
  const agent = createEdgeAgent({
    deviceId: 'cam-t',
    classifier: fakeClassifier,
    labels,
    link,
    policy: createPolicy({ kind: 'threshold', measure: 'maxProb', threshold: 0.5, temperature: 1 }),
    payload: { kind: 'crop', codec: 'jpeg', quality: 80 },
    deadlineMs: 100,
    maxInFlight: 2,
    logger: pino({ level: 'silent' }),
    onRecord: (r) => records.push(r),
  });
  await agent.run(
    await openFrameSource({
      logger: pino({ level: 'silent' }),
      scale: { shortSide: 256 },
      source: await frames([RED, GREY, GREY]),
    }),
  );
  return records.sort((a, b) => a.seq - b.seq);
}

describe('edge agent', () => {
  it('keeps confident frames local and takes the cloud answer for offloaded ones', async () => {
    const link = fakeLink(() => ({
      kind: 'result',
      rttMs: 3,
      result: {
        type: 'result',
        frameId: 'x',
        model: 'cloud',
        inferMs: 1,
        top: [{ index: 5, label: 'five', p: 0.9 }],
      },
    }));
    const records = await runAgent(link);
    expect(records.map((r) => r.file)).toEqual(['0.jpg', '1.jpg', '2.jpg', 'broken.jpg']);
    const [red, grey1, grey2, broken] = records;
    expect(red).toMatchObject({
      decision: { kind: 'local' },
      bytesSent: 0,
      cloud: null,
      final: { index: 1, source: 'local' },
    });
    expect(grey1).toMatchObject({
      decision: { kind: 'offload', reason: 'maxProb 0.200 < 0.5' },
      cloud: { status: 'ok', index: 5, label: 'five' },
      final: { index: 5, label: 'five', source: 'cloud' },
    });
    expect(grey1!.bytesSent).toBeGreaterThan(100);
    expect(grey2!.final?.source).toBe('cloud');
    expect(broken).toMatchObject({
      final: null,
      error: { code: 'IMAGE_UNDECODABLE' },
      decision: { kind: 'failed' },
    });
    expect(link.sent.map((h) => h.frameId)).toEqual(['cam-t:1', 'cam-t:2']);
    const s = summarize(records);
    expect(s).toMatchObject({ frames: 4, offloaded: 2, failed: 1, cloudAnswered: 2 });
    expect(s.edgeTop1).toBeCloseTo(1 / 3); // red right, two greys wrong (labelled 5 and 1)
    expect(s.cascadeTop1).toBeCloseTo(2 / 3); // the cloud fixes frame 1 only
  });

  it('keeps the local answer when the cloud times out, errs, or there is no gateway', async () => {
    for (const answer of [
      { kind: 'timeout', afterMs: 100 },
      { kind: 'error', code: 'IMAGE_UNDECODABLE', message: 'bad' },
      { kind: 'unavailable', reason: 'link closed' },
    ] as LinkAnswer[]) {
      const records = await runAgent(fakeLink(() => answer));
      expect(records[1]).toMatchObject({
        cloud: { status: answer.kind },
        final: { index: 2, source: 'local' },
      });
    }
    const shed = await runAgent(
      fakeLink(() => ({ kind: 'error', code: 'BUSY', message: 'inference queue full' })),
    );
    expect(shed[1]).toMatchObject({ cloud: { status: 'busy' }, final: { index: 2, source: 'local' } });
    const edgeOnly = await runAgent(null);
    expect(edgeOnly[1]).toMatchObject({
      cloud: { status: 'unavailable' },
      final: { source: 'local' },
      bytesSent: 0,
    });
  });
});
