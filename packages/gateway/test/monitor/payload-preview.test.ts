import { createPayloadPreview } from '@squeezegate/gateway';
import type { FrameHeader } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const header = (frameId: string, extra: Partial<FrameHeader> = {}): FrameHeader => ({
  type: 'frame',
  frameId,
  seq: 0,
  view: 'crop',
  mime: 'image/jpeg',
  ...extra,
});
/** `length` bytes, each the same value, so two payloads are told apart by their bytes. */
const bytes = (length: number, fill: number) => Buffer.alloc(length, fill);

describe('payload preview', () => {
  it('keeps each payload byte for byte, with who sent it and why, newest first', () => {
    let t = 1_700_000_000_000;
    const preview = createPayloadPreview({ size: 10, maxBytes: 1000, now: () => t++ });
    const redactions = { faces: 2, faceMode: 'pixelate', masks: 1, metadata: 'stripped' } as const;
    preview.add({
      deviceId: 'cam-1',
      header: header('cam-1/0001', {
        seq: 1,
        reason: 'maxProb 0.41 < 0.6',
        redactions,
        local: { index: 1, label: 'goldfish', p: 0.41 },
      }),
      image: bytes(10, 1),
    });
    // An older agent: neither reason nor redactions.
    preview.add({
      deviceId: 'cam-2',
      header: header('f#o1', { view: 'full', mime: 'image/webp' }),
      image: bytes(20, 2),
    });

    const list = preview.list();
    expect(list.map((e) => e.frameId)).toEqual(['f#o1', 'cam-1/0001']);
    expect(list[1]).toEqual({
      n: 1,
      at: 1_700_000_000_000,
      deviceId: 'cam-1',
      frameId: 'cam-1/0001',
      seq: 1,
      view: 'crop',
      mime: 'image/jpeg',
      bytes: 10,
      local: { index: 1, label: 'goldfish', p: 0.41 },
      reason: 'maxProb 0.41 < 0.6',
      redactions,
    });
    expect(list[0]).toMatchObject({
      n: 2,
      deviceId: 'cam-2',
      mime: 'image/webp',
      reason: null,
      redactions: null,
    });
    expect(Buffer.from(preview.get(2)!.image).equals(bytes(20, 2))).toBe(true);
    expect(preview.get(3)).toBeNull();
    expect(preview.stats()).toEqual({
      held: 2,
      heldBytes: 30,
      received: 2,
      tooLarge: 0,
      size: 10,
      maxBytes: 1000,
    });
  });

  it('holds a copy: the socket buffer it came in may be reused', () => {
    const preview = createPayloadPreview({ size: 2, maxBytes: 100 });
    const message = bytes(8, 7);
    preview.add({ deviceId: 'cam-1', header: header('a'), image: message.subarray(2) });
    message.fill(0);
    expect(Buffer.from(preview.get(1)!.image).equals(bytes(6, 7))).toBe(true);
  });

  it('lets the oldest go past its count', () => {
    const preview = createPayloadPreview({ size: 3, maxBytes: 1000 });
    for (let i = 1; i <= 5; i++)
      preview.add({ deviceId: 'cam-1', header: header(`f${i}`), image: bytes(i, i) });
    expect(preview.list().map((e) => e.frameId)).toEqual(['f5', 'f4', 'f3']);
    expect(preview.get(2)).toBeNull();
    expect(Buffer.from(preview.get(3)!.image).equals(bytes(3, 3))).toBe(true);
    expect(preview.stats()).toMatchObject({ held: 3, heldBytes: 12, received: 5 });
  });

  it('lets the oldest go past its bytes, and keeps none larger than the bound alone', () => {
    const preview = createPayloadPreview({ size: 100, maxBytes: 100 });
    preview.add({ deviceId: 'cam-1', header: header('a'), image: bytes(40, 1) });
    preview.add({ deviceId: 'cam-1', header: header('b'), image: bytes(40, 2) });
    expect(preview.stats().heldBytes).toBe(80);
    // 80 + 30 > 100: the oldest goes, b stays.
    preview.add({ deviceId: 'cam-1', header: header('c'), image: bytes(30, 3) });
    expect(preview.list().map((e) => e.frameId)).toEqual(['c', 'b']);
    expect(preview.stats()).toMatchObject({ held: 2, heldBytes: 70 });
    // Exactly the bound: everything else goes.
    preview.add({ deviceId: 'cam-1', header: header('d'), image: bytes(100, 4) });
    expect(preview.list().map((e) => e.frameId)).toEqual(['d']);
    // Over the bound on its own: not kept, and what is held stays.
    preview.add({ deviceId: 'cam-1', header: header('e'), image: bytes(101, 5) });
    expect(preview.list().map((e) => e.frameId)).toEqual(['d']);
    expect(preview.stats()).toMatchObject({ held: 1, heldBytes: 100, received: 5, tooLarge: 1 });
  });

  it('keeps nothing once closed', async () => {
    const preview = createPayloadPreview({ size: 5, maxBytes: 1000 });
    preview.add({ deviceId: 'cam-1', header: header('a'), image: bytes(10, 1) });
    await preview.close();
    await preview.close();
    expect(preview.list()).toEqual([]);
    preview.add({ deviceId: 'cam-1', header: header('b'), image: bytes(10, 2) });
    expect(preview.list()).toEqual([]);
    expect(preview.get(2)).toBeNull();
    expect(preview.stats()).toMatchObject({ held: 0, heldBytes: 0 });
  });

  it('refuses bounds that keep nothing', () => {
    expect(() => createPayloadPreview({ size: 0, maxBytes: 10 })).toThrow(RangeError);
    expect(() => createPayloadPreview({ size: 1, maxBytes: 0.5 })).toThrow(RangeError);
  });
});
