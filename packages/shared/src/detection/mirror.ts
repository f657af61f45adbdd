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
 * A square view of `image` around `region` (any part of it may lie outside the image: it is
 * filled by mirroring the image), resized to `size`² pixels.
 */
export async function mirroredView(image: RawImage, region: Region, size: number): Promise<RawImage> {
  const reach = Math.ceil(
    Math.max(
      0,
      -region.left,
      -region.top,
      region.left + region.width - image.width,
      region.top + region.height - image.height,
    ),
  );
  const { image: padded, margin } = await mirrorPad(image, reach);
  const left = Math.max(0, Math.round(region.left + margin));
  const top = Math.max(0, Math.round(region.top + margin));
  const width = Math.max(1, Math.min(padded.width - left, Math.round(region.width)));
  const height = Math.max(1, Math.min(padded.height - top, Math.round(region.height)));
  const pixels = await sharp(padded.pixels, raw(padded))
    .extract({ left, top, width, height })
    .resize(size, size, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { pixels, width: size, height: size };
}
