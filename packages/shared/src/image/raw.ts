import sharp from 'sharp';
import { ImageDecodeError } from './preprocess.ts';

/** A decoded frame: interleaved RGB (3 channels), row-major, `width`×`height`. */
export interface RawImage {
  pixels: Buffer;
  width: number;
  height: number;
}

// Same bound as toModelView: a decompression bomb must not cost more than a 24-megapixel frame.
const MAX_PIXELS = 24 * 1000 * 1000;

/**
 * Decodes an image file or buffer into RGB pixels: EXIF orientation applied, converted to sRGB,
 * alpha removed. Throws ImageDecodeError on anything sharp rejects (truncated data, warnings,
 * more than 24 megapixels, not an image).
 */
export async function decodeImage(input: Buffer | string): Promise<RawImage> {
  try {
    const { data, info } = await sharp(input, { failOn: 'warning', limitInputPixels: MAX_PIXELS })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { pixels: data, width: info.width, height: info.height };
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ImageDecodeError(`cannot decode image: ${reason}`, { cause });
  }
}
