import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeImage, ImageDecodeError, ImageErrorCode } from '@squeezegate/shared';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, randomBytes } from '../../../../test/support/prng.ts';
import { solidJpeg } from '../../../../test/support/tiny-onnx.ts';

function meanRgb(pixels: Buffer): [number, number, number] {
  const sum = [0, 0, 0];
  for (let i = 0; i < pixels.length; i++) sum[i % 3]! += pixels[i]!;
  const n = pixels.length / 3;
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

/** A noisy JPEG: big enough that cutting it in half loses real scan data. */
async function noiseJpeg(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.from(randomBytes(mulberry32(7), width * height * 3));
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sqz-raw-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('decodeImage', () => {
  it('decodes a JPEG buffer or file to interleaved RGB', async () => {
    const jpeg = await solidJpeg([200, 40, 90], 64, 48);
    const file = path.join(dir, 'solid.jpg');
    await writeFile(file, jpeg);
    for (const input of [jpeg, file]) {
      const img = await decodeImage(input);
      expect([img.width, img.height, img.pixels.length]).toEqual([64, 48, 64 * 48 * 3]);
      const [r, g, b] = meanRgb(img.pixels);
      expect(Math.abs(r - 200)).toBeLessThanOrEqual(3);
      expect(Math.abs(g - 40)).toBeLessThanOrEqual(3);
      expect(Math.abs(b - 90)).toBeLessThanOrEqual(3);
    }
  });

  it('applies the EXIF orientation', async () => {
    const rotated = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(rotated).metadata()).orientation).toBe(6);
    const img = await decodeImage(rotated);
    expect([img.width, img.height]).toEqual([20, 40]);
  });

  it('drops alpha and expands greyscale to three channels', async () => {
    const rgba = await sharp({
      create: { width: 8, height: 4, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    const a = await decodeImage(rgba);
    expect(a.pixels.length).toBe(8 * 4 * 3);
    expect([...a.pixels.subarray(0, 3)]).toEqual([10, 20, 30]);

    const grey = await sharp(Buffer.alloc(8 * 4, 77), { raw: { width: 8, height: 4, channels: 1 } })
      .png()
      .toBuffer();
    const g = await decodeImage(grey);
    expect(g.pixels.length).toBe(8 * 4 * 3);
    expect([...g.pixels.subarray(0, 6)]).toEqual([77, 77, 77, 77, 77, 77]);
  });

  it('throws ImageDecodeError on a truncated JPEG', async () => {
    const jpeg = await noiseJpeg(256, 192);
    await expect(decodeImage(jpeg)).resolves.toMatchObject({ width: 256, height: 192 });
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    const err = await decodeImage(truncated).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as ImageDecodeError).code).toBe(ImageErrorCode.DECODE);
    expect((err as ImageDecodeError).message).toMatch(/^cannot decode image: /);
  });

  it('throws ImageDecodeError on non-images, missing files and over-24-megapixel frames', async () => {
    await expect(decodeImage(Buffer.from('definitely not an image'))).rejects.toBeInstanceOf(
      ImageDecodeError,
    );
    await expect(decodeImage(path.join(dir, 'missing.jpg'))).rejects.toBeInstanceOf(ImageDecodeError);
    const huge = await sharp({ create: { width: 6000, height: 4001, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    const err = await decodeImage(huge).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as Error).message).toMatch(/pixel limit/i);
  });
});
