import sharp from 'sharp';
import type { Preprocess } from '../models/catalog.ts';
import type { RawImage } from './raw.ts';

export const ImageErrorCode = { DECODE: 'IMAGE_UNDECODABLE' } as const;

/** An image that sharp cannot decode (truncated, not an image, unsupported). */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
  readonly code = ImageErrorCode.DECODE;
}

/**
 * How the pixels relate to the model input: `full` is a camera frame (resize short side, then
 * centre crop, as the model was evaluated); `crop` is a frame already cut to the model's view
 * by the edge, only resized to the crop size.
 */
export type FrameView = 'full' | 'crop';

/** Interleaved RGB, `size`×`size`, the square the model sees. */
export interface ModelView {
  pixels: Buffer;
  size: number;
  /** Dimensions of the decoded source image. */
  source: { width: number; height: number };
}

// A decompression bomb must not cost more than a 24-megapixel frame (far beyond any camera here).
const MAX_PIXELS = 24 * 1000 * 1000;

/**
 * Decodes an image and cuts the model's view out of it with sharp, following the reference
 * recipe in MODELS.md: sRGB, 3 channels, short side → `resizeShortSide` (cubic), centre crop.
 */
export async function toModelView(
  input: Buffer | string | RawImage,
  options: { preprocess: Pick<Preprocess, 'resizeShortSide' | 'centerCrop'>; view?: FrameView },
): Promise<ModelView> {
  const { resizeShortSide, centerCrop: size } = options.preprocess;
  const view = options.view ?? 'full';
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) {
    const cut = cropUnscaled(input, { resizeShortSide, size, view });
    if (cut) return cut;
  }
  try {
    // A raw frame (a camera's, decoded by ffmpeg) goes through the same pipeline, without decoding.
    const image =
      typeof input === 'string' || Buffer.isBuffer(input)
        ? sharp(input, { failOn: 'warning', limitInputPixels: MAX_PIXELS }).rotate()
        : sharp(input.pixels, { raw: { width: input.width, height: input.height, channels: 3 } });
    const meta = await image.metadata();
    const swap = (meta.orientation ?? 1) >= 5;
    const width = swap ? meta.height : meta.width;
    const height = swap ? meta.width : meta.height;
    if (!width || !height) throw new Error('image has no dimensions');
    let pipeline = image.removeAlpha().toColourspace('srgb');
    if (view === 'crop') {
      pipeline = pipeline.resize(size, size, { fit: 'fill', kernel: 'cubic' });
    } else {
      const k = resizeShortSide / Math.min(width, height);
      const rw = Math.max(size, Math.round(width * k));
      const rh = Math.max(size, Math.round(height * k));
      pipeline = pipeline
        .resize(rw, rh, { fit: 'fill', kernel: 'cubic' })
        .extract({ left: (rw - size) >> 1, top: (rh - size) >> 1, width: size, height: size });
    }
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== size || info.height !== size) {
      throw new Error(`unexpected decode result ${info.width}x${info.height}x${info.channels}`);
    }
    return { pixels: data, size, source: { width, height } };
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ImageDecodeError(`cannot decode image: ${reason}`, { cause });
  }
}

/**
 * A raw frame that is already at the model's scale (a camera's: ffmpeg scales it so that its
 * short side is `resizeShortSide`) needs no resampling. sharp's resize to the same size returns
 * the same pixels, so the view is the centre rows and columns copied out, with no trip through
 * sharp. Null when the frame needs resizing (or is malformed: sharp then says why).
 */
function cropUnscaled(
  raw: RawImage,
  { resizeShortSide, size, view }: { resizeShortSide: number; size: number; view: FrameView },
): ModelView | null {
  const { width, height, pixels } = raw;
  if (pixels.length !== width * height * 3 || width < size || height < size) return null;
  const unscaled =
    view === 'crop' ? width === size && height === size : Math.min(width, height) === resizeShortSide;
  if (!unscaled) return null;
  const left = (width - size) >> 1;
  const top = (height - size) >> 1;
  const row = size * 3;
  const out = Buffer.allocUnsafe(row * size);
  for (let y = 0; y < size; y++) {
    const from = ((top + y) * width + left) * 3;
    pixels.copy(out, y * row, from, from + row);
  }
  return { pixels: out, size, source: { width, height } };
}

/**
 * Interleaved RGB bytes → planar NCHW float32 for one image: per channel
 * `(px * scale - mean[c]) / std[c]`, channels in the model's order.
 */
export function toTensorData(pixels: Uint8Array, preprocess: Preprocess, out?: Float32Array): Float32Array {
  const plane = pixels.length / 3;
  const data = out ?? new Float32Array(pixels.length);
  const { scale, mean, std } = preprocess;
  // Source channel feeding each output plane: RGB keeps order, BGR reverses it.
  const src = preprocess.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const s = src[c]!;
    const m = mean[c]!;
    const inv = 1 / std[c]!;
    const base = c * plane;
    for (let i = 0; i < plane; i++) data[base + i] = (pixels[i * 3 + s]! * scale - m) * inv;
  }
  return data;
}

/** Re-encodes a model view as a JPEG; sharp writes no EXIF/ICC metadata unless asked. */
export async function encodeJpeg(view: Pick<ModelView, 'pixels' | 'size'>, quality: number): Promise<Buffer> {
  return sharp(view.pixels, { raw: { width: view.size, height: view.size, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}
