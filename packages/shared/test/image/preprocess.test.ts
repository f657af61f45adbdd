import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  encodeJpeg,
  ImageDecodeError,
  ImageErrorCode,
  type ModelView,
  type Preprocess,
  toModelView,
  toTensorData,
} from '@squeezegate/shared';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, randomBytes } from '../../../../test/support/prng.ts';
import { solidJpeg } from '../../../../test/support/tiny-onnx.ts';

type Rgb = readonly [number, number, number];

const TORCHVISION: Preprocess = {
  channelOrder: 'RGB',
  resizeShortSide: 256,
  centerCrop: 224,
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};
const CAFFE: Preprocess = {
  channelOrder: 'BGR',
  resizeShortSide: 256,
  centerCrop: 227,
  scale: 1,
  mean: [104, 117, 123],
  std: [1, 1, 1],
};

const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const BLUE: Rgb = [0, 0, 255];

/**
 * A JPEG of vertical colour bands; `bands` gives each band's right edge (exclusive) and colour.
 * Edges on multiples of 16 keep JPEG's 2×2-subsampled 8×8 blocks from smearing colours across them.
 */
function bandsJpeg(
  width: number,
  height: number,
  bands: readonly { until: number; rgb: Rgb }[],
): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let x = 0; x < width; x++) {
    const { rgb } = bands.find((b) => x < b.until) ?? bands[bands.length - 1]!;
    for (let y = 0; y < height; y++) raw.set(rgb, (y * width + x) * 3);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

function pixel(view: ModelView, x: number, y: number): Rgb {
  const i = (y * view.size + x) * 3;
  return [view.pixels[i]!, view.pixels[i + 1]!, view.pixels[i + 2]!];
}

/** Largest per-channel difference between two colours. */
function distance(a: Rgb, b: Rgb): number {
  return Math.max(...a.map((v, c) => Math.abs(v - b[c]!)));
}

/** The colour a JPEG-decoded pixel clearly is, or undefined when it is a blend. */
function dominant([r, g, b]: Rgb): 'red' | 'green' | 'blue' | undefined {
  if (r > 200 && g < 60 && b < 60) return 'red';
  if (g > 200 && r < 60 && b < 60) return 'green';
  if (b > 200 && r < 60 && g < 60) return 'blue';
  return undefined;
}

describe('toModelView', () => {
  it('turns a solid-colour JPEG into a 224² RGB view of that colour', async () => {
    const colour: Rgb = [200, 30, 60];
    const view = await toModelView(await solidJpeg(colour), { preprocess: TORCHVISION });
    expect(view.size).toBe(224);
    expect(view.source).toEqual({ width: 320, height: 256 });
    expect(view.pixels.length).toBe(224 * 224 * 3);
    let worst = 0;
    for (let i = 0; i < view.pixels.length; i++)
      worst = Math.max(worst, Math.abs(view.pixels[i]! - colour[i % 3]!));
    // JPEG (YCbCr, quality 95) moves a saturated colour by a few levels at most
    expect(worst).toBeLessThanOrEqual(4);
  });

  it('follows centerCrop for the view size', async () => {
    const view = await toModelView(await solidJpeg([10, 20, 30]), { preprocess: CAFFE });
    expect(view.size).toBe(227);
    expect(view.pixels.length).toBe(227 * 227 * 3);
  });

  it('reads a file path as well as bytes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sqz-image-'));
    try {
      const file = path.join(dir, 'frame.jpg');
      await writeFile(file, await solidJpeg([0, 128, 255], 64, 48));
      const view = await toModelView(file, { preprocess: TORCHVISION });
      expect(view.source).toEqual({ width: 64, height: 48 });
      expect(distance(pixel(view, 112, 112), [0, 128, 255])).toBeLessThanOrEqual(4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('on a wide frame red | green | blue', () => {
    // 1280×512 scales by 1/2 to 640×256; the centre 224² crop is x ∈ [208, 432) of that,
    // x ∈ [416, 864) of the source, which is exactly the green band.
    let frame: Buffer;
    beforeAll(async () => {
      frame = await bandsJpeg(1280, 512, [
        { until: 416, rgb: RED },
        { until: 864, rgb: GREEN },
        { until: 1280, rgb: BLUE },
      ]);
    });

    it('view "full" resizes the short side and crops the centre', async () => {
      const view = await toModelView(frame, { preprocess: TORCHVISION });
      expect(view.source).toEqual({ width: 1280, height: 512 });
      // columns just inside both crop edges are green: nothing of the red or blue bands got in,
      // so the crop is centred (an offset of a few pixels either way would show red or blue)
      for (const x of [3, 112, 220]) {
        for (const y of [0, 112, 223]) expect(dominant(pixel(view, x, y)), `x=${x} y=${y}`).toBe('green');
      }
    });

    it('view "crop" only resizes, keeping all three bands', async () => {
      const view = await toModelView(frame, { preprocess: TORCHVISION, view: 'crop' });
      expect(view.size).toBe(224);
      // 1280 → 224 horizontally: bands end at 72.8 and 151.2
      expect(dominant(pixel(view, 20, 100))).toBe('red');
      expect(dominant(pixel(view, 112, 100))).toBe('green');
      expect(dominant(pixel(view, 200, 100))).toBe('blue');
    });
  });

  it('applies the EXIF orientation before cutting the view', async () => {
    // stored 640×256 red | green | blue; orientation 6 displays it turned 90° clockwise,
    // so red ends up on top and blue at the bottom of a 256×640 picture
    const stored = await bandsJpeg(640, 256, [
      { until: 208, rgb: RED },
      { until: 432, rgb: GREEN },
      { until: 640, rgb: BLUE },
    ]);
    const rotated = await sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const view = await toModelView(rotated, { preprocess: TORCHVISION, view: 'crop' });
    expect(view.source).toEqual({ width: 256, height: 640 });
    expect(dominant(pixel(view, 112, 20))).toBe('red');
    expect(dominant(pixel(view, 112, 112))).toBe('green');
    expect(dominant(pixel(view, 112, 210))).toBe('blue');
    expect(dominant(pixel(view, 20, 112))).toBe('green');
  });

  describe('on a raw camera frame', () => {
    // What sharp gives for a raw frame: the reference the copy-only path must match byte for byte.
    async function throughSharp(width: number, height: number, pixels: Buffer, view: 'full' | 'crop') {
      const raw = { raw: { width, height, channels: 3 as const } };
      if (view === 'crop')
        return sharp(pixels, raw).resize(224, 224, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
      const k = 256 / Math.min(width, height);
      const rw = Math.max(224, Math.round(width * k));
      const rh = Math.max(224, Math.round(height * k));
      return sharp(pixels, raw)
        .resize(rw, rh, { fit: 'fill', kernel: 'cubic' })
        .extract({ left: (rw - 224) >> 1, top: (rh - 224) >> 1, width: 224, height: 224 })
        .raw()
        .toBuffer();
    }

    it.each([
      [456, 256, 'full'],
      [342, 256, 'full'],
      [256, 456, 'full'],
      [256, 256, 'full'],
      [224, 224, 'crop'],
      [640, 360, 'full'],
      [300, 300, 'crop'],
    ] as const)('%i×%i, view %s: the same pixels as resizing with sharp', async (width, height, view) => {
      const pixels = randomBytes(mulberry32(width * 7 + height), width * height * 3);
      const got = await toModelView({ pixels, width, height }, { preprocess: TORCHVISION, view });
      expect(got.size).toBe(224);
      expect(got.source).toEqual({ width, height });
      expect(got.pixels.equals(await throughSharp(width, height, pixels, view))).toBe(true);
    });

    it('a frame whose bytes do not match its size is an ImageDecodeError', async () => {
      const frame = { pixels: Buffer.alloc(456 * 256 * 3 - 3), width: 456, height: 256 };
      await expect(toModelView(frame, { preprocess: TORCHVISION })).rejects.toBeInstanceOf(ImageDecodeError);
    });
  });

  it('keeps the source size through a frame smaller than the crop', async () => {
    const view = await toModelView(await solidJpeg([90, 90, 90], 100, 60), { preprocess: TORCHVISION });
    expect(view.size).toBe(224);
    expect(view.source).toEqual({ width: 100, height: 60 });
    expect(distance(pixel(view, 0, 0), [90, 90, 90])).toBeLessThanOrEqual(3);
  });

  describe('undecodable input', () => {
    async function decodeError(input: Buffer): Promise<ImageDecodeError> {
      try {
        await toModelView(input, { preprocess: TORCHVISION });
      } catch (err) {
        expect(err).toBeInstanceOf(ImageDecodeError);
        return err as ImageDecodeError;
      }
      throw new Error('toModelView accepted undecodable bytes');
    }

    it('throws ImageDecodeError on a truncated JPEG', async () => {
      const jpeg = await bandsJpeg(320, 256, [{ until: 320, rgb: [40, 80, 120] }]);
      const err = await decodeError(jpeg.subarray(0, jpeg.length >> 1));
      expect(err.name).toBe('ImageDecodeError');
      expect(err.code).toBe('IMAGE_UNDECODABLE');
      expect(err.code).toBe(ImageErrorCode.DECODE);
      expect(err.message).toMatch(/^cannot decode image: /);
      expect(err.cause).toBeInstanceOf(Error);
    });

    it('throws ImageDecodeError on random bytes and on an empty buffer', async () => {
      const random = await decodeError(randomBytes(mulberry32(7), 4096));
      expect(random.code).toBe('IMAGE_UNDECODABLE');
      expect(random.message).toContain('unsupported image format');
      const empty = await decodeError(Buffer.alloc(0));
      expect(empty.code).toBe('IMAGE_UNDECODABLE');
    });
  });
});

describe('toTensorData', () => {
  // two pixels, interleaved RGB
  const pixels = new Uint8Array([10, 20, 30, 40, 50, 60]);

  it('writes planar RGB with scale, mean and std per channel', () => {
    const t = toTensorData(pixels, TORCHVISION);
    const n = (px: number, c: number): number => (px / 255 - TORCHVISION.mean[c]!) / TORCHVISION.std[c]!;
    const expected = [n(10, 0), n(40, 0), n(20, 1), n(50, 1), n(30, 2), n(60, 2)];
    expect(t).toHaveLength(6);
    for (const [i, v] of expected.entries()) expect(t[i], `index ${i}`).toBeCloseTo(v, 5);
  });

  it('writes planar BGR with caffe mean subtraction', () => {
    const t = toTensorData(pixels, CAFFE);
    // plane 0 is blue minus mean[0], plane 2 is red minus mean[2]
    expect(Array.from(t)).toEqual([30 - 104, 60 - 104, 20 - 117, 50 - 117, 10 - 123, 40 - 123]);
  });

  it('fills a caller-provided slice and leaves the rest alone', () => {
    const batch = new Float32Array(12).fill(-99);
    const out = toTensorData(pixels, CAFFE, batch.subarray(6, 12));
    expect(out.buffer).toBe(batch.buffer);
    expect(Array.from(batch.subarray(0, 6))).toEqual(new Array(6).fill(-99));
    expect(Array.from(batch.subarray(6))).toEqual([-74, -44, -97, -67, -113, -83]);
  });

  it('turns a decoded solid colour into constant planes', async () => {
    const view = await toModelView(await solidJpeg([255, 0, 0]), { preprocess: TORCHVISION });
    const t = toTensorData(view.pixels, TORCHVISION);
    const plane = 224 * 224;
    const expected = [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0 - 0.406) / 0.225];
    for (let c = 0; c < 3; c++) {
      for (const i of [0, plane >> 1, plane - 1]) expect(t[c * plane + i]).toBeCloseTo(expected[c]!, 1);
    }
  });
});

describe('encodeJpeg', () => {
  let view: ModelView;
  beforeAll(async () => {
    // a source that carries EXIF, so "no EXIF in the output" means something
    const withExif = await sharp(await solidJpeg([30, 160, 90]))
      .withExif({ IFD0: { Make: 'SqueezeCam', Model: 'test' } })
      .jpeg()
      .toBuffer();
    expect((await sharp(withExif).metadata()).exif).toBeDefined();
    view = await toModelView(withExif, { preprocess: TORCHVISION });
  });

  it('encodes a view to a JPEG of the view size without metadata', async () => {
    const jpeg = await encodeJpeg(view, 85);
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const meta = await sharp(jpeg).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBe(224);
    expect(meta.height).toBe(224);
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
  });

  it('decodes back to the same pixels within JPEG tolerance', async () => {
    const back = await toModelView(await encodeJpeg(view, 90), { preprocess: TORCHVISION, view: 'crop' });
    expect(back.source).toEqual({ width: 224, height: 224 });
    let worst = 0;
    for (let i = 0; i < back.pixels.length; i++)
      worst = Math.max(worst, Math.abs(back.pixels[i]! - view.pixels[i]!));
    expect(worst).toBeLessThanOrEqual(4);
  });

  it('gets smaller with lower quality', async () => {
    const detailed = await toModelView(
      await bandsJpeg(448, 448, [
        { until: 160, rgb: RED },
        { until: 288, rgb: GREEN },
        { until: 448, rgb: BLUE },
      ]),
      { preprocess: TORCHVISION, view: 'crop' },
    );
    const [low, high] = await Promise.all([encodeJpeg(detailed, 10), encodeJpeg(detailed, 100)]);
    expect(low.length).toBeLessThan(high.length);
  });
});
