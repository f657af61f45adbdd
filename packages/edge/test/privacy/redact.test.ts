import { classificationCut, padBox, renderPayload, squareAround } from '@squeezegate/edge';
import { decodeImage, type RawImage } from '@squeezegate/shared';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../test/support/prng.ts';

/** A frame of random 4×4-pixel grey cells: any smoothing shows as lost variance, JPEG keeps it. */
function noise(width: number, height: number, seed = 7): RawImage {
  const random = mulberry32(seed);
  const cells = Array.from({ length: Math.ceil(height / 4) * Math.ceil(width / 4) }, () =>
    Math.floor(random() * 256),
  );
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      pixels.fill(
        cells[(y >> 2) * Math.ceil(width / 4) + (x >> 2)]!,
        (y * width + x) * 3,
        (y * width + x) * 3 + 3,
      );
  return { pixels, width, height };
}

/** Mean per-channel variance of a region of an RGB image. */
function variance(image: RawImage, [x1, y1, x2, y2]: readonly number[]): number {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = y1!; y < y2!; y++)
    for (let x = x1!; x < x2!; x++)
      for (let c = 0; c < 3; c++) {
        const v = image.pixels[(y * image.width + x) * 3 + c]!;
        sum += v;
        sq += v * v;
        n++;
      }
  return sq / n - (sum / n) ** 2;
}

const whole = (image: RawImage) => ({
  region: { left: 0, top: 0, width: image.width, height: image.height },
  width: image.width,
  height: image.height,
});

describe('cuts', () => {
  it('crop is the model view: short side to 256 (each side rounded), centre 224', () => {
    const cut = classificationCut(
      'crop',
      { width: 640, height: 480 },
      { resizeShortSide: 256, centerCrop: 224 },
    );
    // 640×480 → 341×256, centre 224² from x = 58: in frame pixels 58·640/341 = 108.9, 224·640/341 = 420.4.
    expect(cut.width).toBe(224);
    expect(cut.region.left).toBeCloseTo(108.86, 2);
    expect(cut.region.top).toBe(30);
    expect(cut.region.width).toBeCloseTo(420.41, 2);
    expect(cut.region.height).toBe(420);
  });

  it('frame keeps the aspect at the short side; original is the whole frame', () => {
    const frame = { width: 1242, height: 375 };
    expect(classificationCut('frame', frame, { resizeShortSide: 256, centerCrop: 224 })).toMatchObject({
      width: 848,
      height: 256,
    });
    expect(classificationCut('original', frame, { resizeShortSide: 256, centerCrop: 224 })).toEqual(
      whole({ ...frame, pixels: Buffer.alloc(0) }),
    );
  });

  it('squares around a box stay inside the frame', () => {
    const frame = { width: 1242, height: 375 };
    const r = squareAround([1200, 300, 1240, 370], 0.15, frame);
    expect(r.width).toBe(r.height);
    expect(r.left + r.width).toBeLessThanOrEqual(frame.width);
    expect(r.top + r.height).toBeLessThanOrEqual(frame.height);
    expect(r.left).toBeLessThanOrEqual(1200);
    // A box taller than the frame can hold is cut to the frame's short side.
    expect(squareAround([0, 0, 1000, 375], 0.5, frame).width).toBe(375);
  });

  it('pads boxes by a fraction of their size, clipped', () => {
    expect(padBox([10, 10, 30, 50], 0.25, { width: 100, height: 100 })).toEqual([5, 0, 35, 60]);
  });
});

describe('renderPayload', () => {
  const face = [40, 30, 104, 94] as const;
  /** A face search that finds the given boxes (in the cut's pixels) and remembers what it saw. */
  const finds = (...boxes: (readonly [number, number, number, number])[]) => {
    const seen: number[] = [];
    const findFaces = async (cut: RawImage) => {
      seen.push(cut.width);
      return boxes;
    };
    return { seen, findFaces };
  };

  for (const mode of ['blur', 'pixelate'] as const) {
    it(`${mode}: the face loses its detail, the rest of the frame keeps it`, async () => {
      const image = noise(200, 150);
      const { findFaces } = finds(face);
      const out = await renderPayload(image, whole(image), { mode, masks: [], findFaces }, 100);
      const decoded = await decodeImage(out.bytes);
      expect(out.faces).toBe(1);
      expect(variance(decoded, face)).toBeLessThan(variance(image, face) / 10);
      expect(variance(decoded, [120, 0, 200, 150])).toBeGreaterThan(
        variance(image, [120, 0, 200, 150]) * 0.8,
      );
    });
  }

  it('searches the downscaled cut itself and obscures what it finds there', async () => {
    const image = noise(400, 300);
    const cut = { region: { left: 0, top: 0, width: 400, height: 300 }, width: 200, height: 150 };
    const { seen, findFaces } = finds([40, 30, 104, 94]);
    const out = await renderPayload(image, cut, { mode: 'pixelate', masks: [], findFaces }, 100);
    const decoded = await decodeImage(out.bytes);
    expect(seen).toEqual([200]);
    expect(decoded.width).toBe(200);
    // Pixelated into flat blocks: next to no variance left inside the face box.
    expect(variance(decoded, [42, 32, 102, 92])).toBeLessThan(400);
    expect(variance(decoded, [120, 0, 200, 150])).toBeGreaterThan(2000);
  });

  it('the cut can come as pixels, and then the frame needs none', async () => {
    const cutPixels = noise(50, 50).pixels;
    const crop = { region: { left: 100, top: 50, width: 100, height: 100 }, width: 50, height: 50 };
    const { seen, findFaces } = finds([0, 0, 20, 20], [60, 60, 80, 80]);
    const out = await renderPayload(
      { width: 300, height: 200 },
      crop,
      { mode: 'blur', masks: [], findFaces },
      90,
      cutPixels,
    );
    // The box outside the 50 px cut is clipped away; the other counts.
    expect(out.faces).toBe(1);
    expect(seen).toEqual([50]);
    await expect(
      renderPayload({ width: 300, height: 200 }, crop, { mode: 'blur', masks: [] }, 90),
    ).rejects.toThrow(/needs the frame or the cut as pixels/);
  });

  it('blacks out mask polygons given as fractions of the frame', async () => {
    const image = noise(200, 100);
    const masks = [
      [
        [0, 0],
        [0.5, 0],
        [0.5, 1],
        [0, 1],
      ] as const,
    ];
    const out = await renderPayload(image, whole(image), { mode: 'blur', masks }, 100);
    const decoded = await decodeImage(out.bytes);
    expect(out.masks).toBe(1);
    const left = decoded.pixels.subarray(0, 3 * 90);
    expect(Math.max(...left)).toBeLessThan(12);
    expect(variance(decoded, [110, 0, 200, 100])).toBeGreaterThan(2000);
    // A mask away from a crop is not counted for it.
    const crop = { region: { left: 150, top: 0, width: 50, height: 50 }, width: 50, height: 50 };
    expect((await renderPayload(image, crop, { mode: 'blur', masks }, 90)).masks).toBe(0);
  });

  it('writes no metadata, whatever the captured file carried', async () => {
    const captured = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
      .jpeg()
      .withExif({ IFD0: { Copyright: 'secret place', Artist: 'someone' } })
      .toBuffer();
    expect((await sharp(captured).metadata()).exif).toBeDefined();
    const image = await decodeImage(captured);
    const out = await renderPayload(image, whole(image), { mode: 'blur', masks: [] }, 85);
    const meta = await sharp(out.bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
  });
});
