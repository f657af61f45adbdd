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
    mapping = { scaleX: r, scaleY: r, padLeft, padTop, region };
    // The padding is written with the planes (cheaper than a sharp extend of the whole image).
    const resized = await pipeline.raw().toBuffer({ resolveWithObject: true });
    expectSize(resized.info, { width: w, height: h });
    return {
      data: toPlanarPadded(resized.data, { width: w, height: h }, pre, {
        ...input,
        left: padLeft,
        top: padTop,
        fill: pre.pad,
      }),
      mapping,
    };
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  expectSize(info, input);
  return { data: toPlanar(data, pre), mapping };
}

function expectSize(
  info: { width: number; height: number; channels: number },
  want: { width: number; height: number },
) {
  if (info.width !== want.width || info.height !== want.height || info.channels !== 3) {
    throw new Error(
      `resize gave ${info.width}×${info.height}×${info.channels}, wanted ${want.width}×${want.height}×3`,
    );
  }
}

/**
 * Interleaved RGB bytes of a `size` image → planar float32 of `out` size in the model's channel
 * order, (px − mean) / std, the image at (`left`, `top`); the rest is `fill` (a pixel value) or,
 * with `fill: 'mirror'`, the image mirrored at its edges (the edge pixel repeated, as libvips does).
 */
export function toPlanarPadded(
  pixels: Uint8Array,
  size: { width: number; height: number },
  pre: Pick<DetectorPreprocess, 'channelOrder' | 'mean' | 'std'>,
  out: { width: number; height: number; left: number; top: number; fill: number | 'mirror' },
): Float32Array {
  const { width: W, height: H, left, top, fill } = out;
  const { width: w, height: h } = size;
  const reflect = (v: number, n: number) => {
    let i = v;
    // Mirror repeatedly until inside (only matters for margins wider than the image).
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
  };
  const map = (count: number, offset: number, n: number) =>
    Int32Array.from({ length: count }, (_, o) => {
      const v = o - offset;
      if (v >= 0 && v < n) return v;
      return fill === 'mirror' ? reflect(v, n) : -1;
    });
  const cols = map(W, left, w);
  const rows = map(H, top, h);
  const plane = W * H;
  const data = new Float32Array(3 * plane);
  const order = pre.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const [s0, s1, s2] = order as [number, number, number];
  const k = [1 / pre.std[0], 1 / pre.std[1], 1 / pre.std[2]] as const;
  const m = pre.mean;
  const padded = fill === 'mirror' ? [0, 0, 0] : [0, 1, 2].map((c) => (fill - m[c]!) * k[c]!);
  const [p0, p1, p2] = padded as [number, number, number];
  const [m0, m1, m2] = m;
  const [k0, k1, k2] = k;
  const x0 = Math.max(0, left);
  const x1 = Math.min(W, left + w);
  /** One output pixel from source pixel (sx, sy), or the fill when either is -1. */
  const put = (o: number, sx: number, sy: number) => {
    if (sx < 0 || sy < 0) {
      data[o] = p0;
      data[plane + o] = p1;
      data[2 * plane + o] = p2;
      return;
    }
    const j = (sy * w + sx) * 3;
    data[o] = (pixels[j + s0]! - m0) * k0;
    data[plane + o] = (pixels[j + s1]! - m1) * k1;
    data[2 * plane + o] = (pixels[j + s2]! - m2) * k2;
  };
  for (let y = 0; y < H; y++) {
    const sy = rows[y]!;
    const rowOut = y * W;
    for (let x = 0; x < x0; x++) put(rowOut + x, cols[x]!, sy);
    if (sy >= 0) {
      // The image's own pixels: a straight run, no lookups.
      for (let x = x0, o = rowOut + x0, j = (sy * w + (x0 - left)) * 3; x < x1; x++, o++, j += 3) {
        data[o] = (pixels[j + s0]! - m0) * k0;
        data[plane + o] = (pixels[j + s1]! - m1) * k1;
        data[2 * plane + o] = (pixels[j + s2]! - m2) * k2;
      }
    } else for (let x = x0; x < x1; x++) put(rowOut + x, -1, -1);
    for (let x = x1; x < W; x++) put(rowOut + x, cols[x]!, sy);
  }
  return data;
}

/** Interleaved RGB bytes → planar float32 in the model's channel order, (px − mean) / std. */
export function toPlanar(
  pixels: Uint8Array,
  pre: Pick<DetectorPreprocess, 'channelOrder' | 'mean' | 'std'>,
): Float32Array {
  const plane = pixels.length / 3;
  const out = new Float32Array(pixels.length);
  const [s0, s1, s2] = (pre.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0]) as [number, number, number];
  const [m0, m1, m2] = pre.mean;
  const [k0, k1, k2] = [1 / pre.std[0], 1 / pre.std[1], 1 / pre.std[2]];
  // One pass over the pixels, three planes written (a pass per plane reads the bytes three times).
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    out[i] = (pixels[j + s0]! - m0) * k0;
    out[plane + i] = (pixels[j + s1]! - m1) * k1;
    out[2 * plane + i] = (pixels[j + s2]! - m2) * k2;
  }
  return out;
}

/**
 * A dynamic-input model's input with a mirrored margin, in one resize: the frame scaled by
 * `scale`, then grown on every side by `margin` (a share of the scaled short side) mirrored
 * from its edges, the right and bottom grown further (mirrored too) to the model's `multiple`.
 * A face cut by the frame's edge becomes a whole, mirrored face. Boxes map back through the
 * usual mapping (`padLeft`/`padTop` = the margin) and are clipped to the frame.
 */
export async function prepareMirrored(
  image: RawImage,
  options: { preprocess: DetectorPreprocess; scale: number; margin: number; multiple: number },
): Promise<PreparedInput & { input: { width: number; height: number } }> {
  const { preprocess: pre, scale, multiple } = options;
  const w = Math.max(1, Math.round(image.width * scale));
  const h = Math.max(1, Math.round(image.height * scale));
  const m = Math.round(Math.min(w, h) * options.margin);
  const width = Math.ceil((w + 2 * m) / multiple) * multiple;
  const height = Math.ceil((h + 2 * m) / multiple) * multiple;
  const resized = await sharp(image.pixels, {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(w, h, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  const mapping: InputMapping = {
    scaleX: w / image.width,
    scaleY: h / image.height,
    padLeft: m,
    padTop: m,
    region: { left: 0, top: 0, width: image.width, height: image.height },
  };
  const data = toPlanarPadded(resized, { width: w, height: h }, pre, {
    width,
    height,
    left: m,
    top: m,
    fill: 'mirror',
  });
  return { data, mapping, input: { width, height } };
}
