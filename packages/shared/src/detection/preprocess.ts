import sharp from 'sharp';
import type { RawImage } from '../image/raw.ts';
import type { DetectorPreprocess } from './catalog.ts';
import type { InputMapping } from './decode.ts';

/** A region of the frame, in its pixels. */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface PreparedInput {
  /** NCHW float32 [1, 3, H, W] in the model's channel order, normalised. */
  data: Float32Array;
  mapping: InputMapping;
}

/**
 * Cuts `region` (default: the whole frame) out of the frame and turns it into the model's input,
 * as DETECTION.md specifies per model: letterbox (r = min(W_in/w, H_in/h), resized to
 * floor(w·r)×floor(h·r), padded at the top-left or centred) or stretch, bilinear resize with sharp.
 */
export async function prepareInput(
  image: RawImage,
  options: { preprocess: DetectorPreprocess; input: { width: number; height: number }; region?: Region },
): Promise<PreparedInput> {
  const { preprocess: pre, input } = options;
  const region = options.region ?? { left: 0, top: 0, width: image.width, height: image.height };
  const whole = region.width === image.width && region.height === image.height;
  let pipeline = sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (!whole) pipeline = pipeline.extract(region);

  let mapping: InputMapping;
  if (pre.fit === 'stretch') {
    pipeline = pipeline.resize(input.width, input.height, { fit: 'fill', kernel: 'linear' });
    mapping = {
      scaleX: input.width / region.width,
      scaleY: input.height / region.height,
      padLeft: 0,
      padTop: 0,
      region,
    };
  } else {
    const r = Math.min(input.width / region.width, input.height / region.height);
    const w = Math.max(1, Math.min(input.width, Math.floor(region.width * r)));
    const h = Math.max(1, Math.min(input.height, Math.floor(region.height * r)));
    const padLeft = pre.anchor === 'centre' ? Math.floor((input.width - w) / 2) : 0;
    const padTop = pre.anchor === 'centre' ? Math.floor((input.height - h) / 2) : 0;
    pipeline = pipeline.resize(w, h, { fit: 'fill', kernel: 'linear' });
    if (w !== input.width || h !== input.height) {
      pipeline = pipeline.extend({
        left: padLeft,
        top: padTop,
        right: input.width - w - padLeft,
        bottom: input.height - h - padTop,
        background: { r: pre.pad, g: pre.pad, b: pre.pad },
      });
    }
    mapping = { scaleX: r, scaleY: r, padLeft, padTop, region };
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== input.width || info.height !== input.height || info.channels !== 3) {
    throw new Error(
      `resize gave ${info.width}×${info.height}×${info.channels}, wanted ${input.width}×${input.height}×3`,
    );
  }
  return { data: toPlanar(data, pre), mapping };
}

/** Interleaved RGB bytes → planar float32 in the model's channel order, (px − mean) / std. */
export function toPlanar(
  pixels: Uint8Array,
  pre: Pick<DetectorPreprocess, 'channelOrder' | 'mean' | 'std'>,
): Float32Array {
  const plane = pixels.length / 3;
  const out = new Float32Array(pixels.length);
  const src = pre.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const s = src[c]!;
    const mean = pre.mean[c]!;
    const inv = 1 / pre.std[c]!;
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = (pixels[i * 3 + s]! - mean) * inv;
  }
  return out;
}
