import {
  getDetectorSpec,
  mapBox,
  prepareInput,
  prepareMirrored,
  type RawImage,
  toPlanar,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

function solid(width: number, height: number, rgb: readonly [number, number, number]): RawImage {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) pixels.set(rgb, i * 3);
  return { pixels, width, height };
}

/** Value of plane `c` at (x, y) of a [1, 3, h, w] tensor. */
const at = (data: Float32Array, w: number, h: number, c: number, x: number, y: number) =>
  data[c * w * h + y * w + x]!;

const spec = (id: string) => {
  const s = getDetectorSpec(id);
  if (!s) throw new Error(`no ${id}`);
  return s;
};

describe('prepareInput', () => {
  it('YOLOX: BGR 0..255, letterboxed at the top-left with 114', async () => {
    const { preprocess, input } = spec('yolox-nano-416');
    // 832×416 → r = 0.5 → 416×208 of image, rows 208.. are padding.
    const { data, mapping } = await prepareInput(solid(832, 416, [200, 100, 10]), { preprocess, input });
    expect(data.length).toBe(3 * 416 * 416);
    expect(mapping).toEqual({
      scaleX: 0.5,
      scaleY: 0.5,
      padLeft: 0,
      padTop: 0,
      region: { left: 0, top: 0, width: 832, height: 416 },
    });
    expect([0, 1, 2].map((c) => at(data, 416, 416, c, 200, 100))).toEqual([10, 100, 200]);
    expect([0, 1, 2].map((c) => at(data, 416, 416, c, 200, 300))).toEqual([114, 114, 114]);
    expect(at(data, 416, 416, 2, 415, 207)).toBe(200);
  });

  it('PicoDet: RGB with mean/std, centred, padded with 0 before normalisation', async () => {
    const { preprocess, input } = spec('picodet-s-320');
    // 640×320 → r = 0.5 → 320×160, top = 80.
    const { data, mapping } = await prepareInput(solid(640, 320, [255, 0, 128]), { preprocess, input });
    expect(mapping).toMatchObject({ scaleX: 0.5, padLeft: 0, padTop: 80 });
    const norm = (v: number, c: number) => (v - preprocess.mean[c]!) / preprocess.std[c]!;
    [255, 0, 128].forEach((v, c) => {
      expect(at(data, 320, 320, c, 10, 160)).toBeCloseTo(norm(v, c), 4);
    });
    [0, 0, 0].forEach((v, c) => {
      expect(at(data, 320, 320, c, 10, 40)).toBeCloseTo(norm(v, c), 4);
    });
    [0, 0, 0].forEach((v, c) => {
      expect(at(data, 320, 320, c, 10, 300)).toBeCloseTo(norm(v, c), 4);
    });
  });

  it('UltraFace: stretched, RGB (x − 127) / 128', async () => {
    const { preprocess, input } = spec('ultraface-rfb320');
    const { data, mapping } = await prepareInput(solid(1000, 1000, [255, 127, 63]), { preprocess, input });
    expect(data.length).toBe(3 * 320 * 240);
    expect(mapping).toMatchObject({ scaleX: 0.32, scaleY: 0.24, padLeft: 0, padTop: 0 });
    expect([0, 1, 2].map((c) => at(data, 320, 240, c, 319, 239))).toEqual([1, 0, -0.5]);
  });

  it('cuts a tile out of the frame before resizing', async () => {
    const { preprocess, input } = spec('yolox-nano-416');
    // Left half red, right half blue; the tile is the right 100 px square.
    const img = solid(300, 100, [255, 0, 0]);
    for (let y = 0; y < 100; y++)
      for (let x = 200; x < 300; x++) img.pixels.set([0, 0, 255], (y * 300 + x) * 3);
    const region = { left: 200, top: 0, width: 100, height: 100 };
    const { data, mapping } = await prepareInput(img, { preprocess, input, region });
    expect(mapping).toMatchObject({ scaleX: 4.16, scaleY: 4.16, region });
    // BGR: plane 0 is blue everywhere in the tile.
    expect(at(data, 416, 416, 0, 5, 5)).toBe(255);
    expect(at(data, 416, 416, 2, 410, 410)).toBe(0);
  });
});

describe('toPlanar', () => {
  it('reorders channels and normalises', () => {
    const px = new Uint8Array([1, 2, 3, 4, 5, 6]);
    expect([...toPlanar(px, { channelOrder: 'BGR', mean: [0, 0, 0], std: [1, 1, 1] })]).toEqual([
      3, 6, 2, 5, 1, 4,
    ]);
    expect([...toPlanar(px, { channelOrder: 'RGB', mean: [1, 2, 3], std: [1, 1, 0.5] })]).toEqual([
      0, 3, 0, 3, 0, 6,
    ]);
  });
});

describe('prepareMirrored', () => {
  const pre = getDetectorSpec('yunet-s')!.preprocess;
  it('scales the frame, grows it by a mirrored margin and up to the multiple, and maps back', async () => {
    // Columns of a 100×80 frame get their x as value (BGR all equal).
    const pixels = Buffer.alloc(100 * 80 * 3);
    for (let y = 0; y < 80; y++)
      for (let x = 0; x < 100; x++) pixels.fill(x, (y * 100 + x) * 3, (y * 100 + x) * 3 + 3);
    const prepared = await prepareMirrored(
      { pixels, width: 100, height: 80 },
      { preprocess: pre, scale: 2, margin: 0.125, multiple: 32 },
    );
    // 200×160 scaled, margin 20: 240×200, up to 256×224.
    expect(prepared!.input).toEqual({ width: 256, height: 224 });
    expect(prepared!.data).toHaveLength(3 * 256 * 224);
    expect(prepared!.mapping).toEqual({
      scaleX: 2,
      scaleY: 2,
      padLeft: 20,
      padTop: 20,
      region: { left: 0, top: 0, width: 100, height: 80 },
    });
    // The margin mirrors the frame's left edge: input column 20 − k shows frame column ≈ k / 2.
    const row = 50 * 256;
    expect(prepared!.data[row + 20]).toBeCloseTo(prepared!.data[row + 19]!, 0);
    expect(prepared!.data[row + 0]!).toBeGreaterThan(prepared!.data[row + 20]! + 5);
    const { mapping } = prepared!;
    expect(mapBox(20, 20, 60, 60, mapping)).toEqual([0, 0, 20, 20]);
    expect(mapBox(0, 0, 10, 10, mapping)).toBeUndefined();
  });

  it('mirrors a frame smaller than its margin over and over', async () => {
    // A 2×1 frame (values 10, 20) grown to 32×32: columns alternate 10 10 20 20 10 10 …
    const tiny = { pixels: Buffer.from([10, 10, 10, 20, 20, 20]), width: 2, height: 1 };
    const { data, input } = await prepareMirrored(tiny, {
      preprocess: pre,
      scale: 1,
      margin: 0.125,
      multiple: 32,
    });
    expect(input).toEqual({ width: 32, height: 32 });
    expect(Array.from(data.subarray(0, 6))).toEqual([10, 20, 20, 10, 10, 20]);
  });
});
