import { FrameHeaderSchema, MAX_OFFLOAD_REASON } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { fakeLink } from '../../../../test/support/fake-link.ts';
import { askCloud } from '../../src/agent/ask-cloud.ts';

const shaped = {
  bytes: Buffer.from([0xff, 0xd8, 1, 2, 0xff, 0xd9]),
  view: 'crop',
  mime: 'image/jpeg',
} as const;
const redactions = { faces: 2, faceMode: 'pixelate', masks: 1, metadata: 'stripped' } as const;

describe('askCloud: what a frame header tells the gateway (issue 15)', () => {
  it("carries the decision's reason and the redactions, in a header the gateway's schema accepts", async () => {
    const link = fakeLink(() => ({ kind: 'timeout', afterMs: 1 }));
    await askCloud(
      link,
      { frameId: 'cam-1:7', seq: 7, reason: 'maxProb 0.41 < 0.6', redactions },
      shaped,
      10,
    );
    const [header] = link.sent;
    expect(header).toMatchObject({ frameId: 'cam-1:7', reason: 'maxProb 0.41 < 0.6', redactions });
    expect(FrameHeaderSchema.safeParse(header).success).toBe(true);
  });

  it('cuts a reason too long for the header rather than have the frame refused', async () => {
    const link = fakeLink(() => ({ kind: 'timeout', afterMs: 1 }));
    const reason = `byte budget: ${'x'.repeat(400)}`;
    await askCloud(link, { frameId: 'f', seq: 0, reason }, shaped, 10);
    const [header] = link.sent;
    expect(header!.reason).toBe(reason.slice(0, MAX_OFFLOAD_REASON));
    expect(FrameHeaderSchema.safeParse(header).success).toBe(true);
  });

  it('sends neither when it has neither (as agents before them did)', async () => {
    const link = fakeLink(() => ({ kind: 'timeout', afterMs: 1 }));
    await askCloud(link, { frameId: 'f', seq: 0 }, shaped, 10);
    expect(Object.keys(link.sent[0]!).sort()).toEqual([
      'capturedAt',
      'frameId',
      'mime',
      'seq',
      'type',
      'view',
    ]);
  });
});
