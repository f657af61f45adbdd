import sharp from 'sharp';
import type { RawImage } from '../image/raw.ts';
import type { Region } from './preprocess.ts';

const raw = (image: { width: number; height: number }) => ({
  raw: { width: image.width, height: image.height, channels: 3 as const },
});

/**
 * The image grown by `margin` pixels on every side, the new border a mirror of the old edge.
 * A face cut in half by the edge of a crop becomes a whole (mirrored) face, which a face
 * detector finds where it misses the half (faces are close to symmetric). Margins are capped
 * below the image's size (a mirror cannot reflect more than there is).
 */
export async function mirrorPad(
  image: RawImage,
  margin: number,
): Promise<{ image: RawImage; margin: number }> {
  const m = Math.max(0, Math.min(Math.round(margin), image.width - 1, image.height - 1));
  if (m === 0) return { image, margin: 0 };
  const pixels = await sharp(image.pixels, raw(image))
    .extend({ left: m, right: m, top: m, bottom: m, extendWith: 'mirror' })
    .raw()
    .toBuffer();
  return { image: { pixels, width: image.width + 2 * m, height: image.height + 2 * m }, margin: m };
}

/**
 * A view of `image` showing `region` (any part of it may lie outside the image: it is filled by
 * mirroring the image's edge), resized to `size`² pixels. Only the region is copied, never the
 * whole image.
 */
export async function mirroredView(image: RawImage, region: Region, size: number): Promise<RawImage> {
  const x1 = Math.round(region.left);
  const y1 = Math.round(region.top);
  const x2 = Math.max(x1 + 1, Math.round(region.left + region.width));
  const y2 = Math.max(y1 + 1, Math.round(region.top + region.height));
  const left = Math.min(Math.max(0, x1), image.width - 1);
  const top = Math.min(Math.max(0, y1), image.height - 1);
  const inside = {
    left,
    top,
    width: Math.max(1, Math.min(image.width, x2) - left),
    height: Math.max(1, Math.min(image.height, y2) - top),
  };
  // A mirror reflects at most what is there: pads beyond the inside part are clipped.
  const cap = (v: number, side: number) => Math.max(0, Math.min(v, side - 1));
  const pad = {
    left: cap(left - x1, inside.width),
    top: cap(top - y1, inside.height),
    right: cap(x2 - (inside.left + inside.width), inside.width),
    bottom: cap(y2 - (inside.top + inside.height), inside.height),
  };
  let cut = await sharp(image.pixels, raw(image)).extract(inside).raw().toBuffer();
  let w = inside.width;
  let h = inside.height;
  if (pad.left || pad.top || pad.right || pad.bottom) {
    cut = await sharp(cut, raw({ width: w, height: h }))
      .extend({ ...pad, extendWith: 'mirror' })
      .raw()
      .toBuffer();
    w += pad.left + pad.right;
    h += pad.top + pad.bottom;
  }
  const pixels = await sharp(cut, raw({ width: w, height: h }))
    .resize(size, size, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { pixels, width: size, height: size };
}
