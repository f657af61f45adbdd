// The payload codec option: what the schema accepts and defaults to, and what each codec sends.
import {
  CODEC_MIME,
  type ModelView,
  PAYLOAD_CODECS,
  PayloadSchema,
  parseConfig,
  shapePayload,
  toModelView,
} from '@squeezegate/shared';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

const PREPROCESS = { resizeShortSide: 256, centerCrop: 224 };

/** A 320×240 frame with structure (diagonal bands and a square), as a JPEG file. */
async function capturedFrame(): Promise<Buffer> {
  const width = 320;
  const height = 240;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const square = x > 120 && x < 200 && y > 80 && y < 160;
      pixels[i] = square ? 230 : (x + y) % 64 < 32 ? 40 : 180;
      pixels[i + 1] = square ? 20 : (x * 3) % 256;
      pixels[i + 2] = square ? 30 : (y * 5) % 256;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

const meanAbsDiff = (a: Buffer, b: Buffer) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
};

describe('PayloadSchema codec', () => {
  it('defaults to a WebP q80 crop', () => {
    expect(PayloadSchema.parse({})).toEqual({ kind: 'crop', codec: 'webp', quality: 80 });
    expect(PayloadSchema.parse({ codec: 'jpeg', quality: 85 })).toEqual({
      kind: 'crop',
      codec: 'jpeg',
      quality: 85,
    });
  });

  it('names a codec it does not know', () => {
    const result = parseConfig(PayloadSchema, { codec: 'heic' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues).toEqual([expect.stringMatching(/^codec: .*"jpeg"/)]);
  });
});

describe('shapePayload per codec', () => {
  let captured: Buffer;
  let view: ModelView;
  beforeAll(async () => {
    captured = await capturedFrame();
    view = await toModelView(captured, { preprocess: PREPROCESS });
  });

  it.each([...PAYLOAD_CODECS, 'avif' as const])(
    '%s crop: its mime, decodes to the edge view within a few grey levels',
    async (codec) => {
      const shaped = await shapePayload(
        { captured, view, shortSide: 256 },
        { kind: 'crop', codec, quality: 90 },
      );
      expect(shaped).toMatchObject({ view: 'crop', mime: CODEC_MIME[codec] });
      const meta = await sharp(shaped.bytes).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
        format: codec === 'avif' ? 'heif' : codec,
        width: 224,
        height: 224,
      });
      // What the cloud sees of the payload is the edge's view, up to the codec's loss.
      const back = await toModelView(shaped.bytes, { preprocess: PREPROCESS, view: 'crop' });
      expect(meanAbsDiff(back.pixels, view.pixels)).toBeLessThan(6);
      // …and not some other picture: a flat grey is far from it.
      expect(meanAbsDiff(Buffer.alloc(view.pixels.length, 128), view.pixels)).toBeGreaterThan(30);
    },
  );

  it('frame payloads take the codec too, at the short side asked for', async () => {
    const shaped = await shapePayload(
      { captured, view, shortSide: 256 },
      { kind: 'frame', codec: 'webp', quality: 80 },
    );
    expect(shaped).toMatchObject({ view: 'full', mime: 'image/webp' });
    const meta = await sharp(shaped.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 341, 256]);
  });

  it('quality trades bytes: WebP q50 is smaller than q95, and original sends the file untouched', async () => {
    const at = (quality: number) =>
      shapePayload({ captured, view, shortSide: 256 }, { kind: 'crop', codec: 'webp', quality });
    expect((await at(50)).bytes.length).toBeLessThan((await at(95)).bytes.length);
    const original = await shapePayload(
      { captured, view, shortSide: 256 },
      { kind: 'original', codec: 'webp', quality: 90 },
    );
    expect(original.bytes).toBe(captured);
    expect(original.mime).toBe('image/jpeg');
  });
});
