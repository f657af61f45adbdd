import sharp, { type Sharp } from 'sharp';
import type { PayloadCodec, PayloadConfig } from '../config/schemas.ts';
import type { FrameHeader } from '../protocol/messages.ts';
import type { ModelView } from './preprocess.ts';

export interface ShapedPayload {
  bytes: Buffer;
  view: FrameHeader['view'];
  mime: FrameHeader['mime'];
}

const MIME: Record<string, FrameHeader['mime']> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  heif: 'image/avif',
};

/** What sharp can write for a payload: the config's codecs and AVIF, which only the bench uses yet. */
export type EncodingCodec = PayloadCodec | 'avif';

export const CODEC_MIME: Record<EncodingCodec, FrameHeader['mime']> = {
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  avif: 'image/avif',
};

/** The encoding of a re-encoded payload: codec and quality (1-100, each codec's own scale). */
export interface PayloadEncoding {
  codec: EncodingCodec;
  quality: number;
}

/** A payload to shape: the config's, or one of the bench's (which may be AVIF). */
export type PayloadShape = Omit<PayloadConfig, 'codec'> & PayloadEncoding;

/**
 * Encodes pixels (a sharp pipeline) as a payload. JPEG keeps libvips' defaults (4:2:0); WebP
 * and AVIF use sharp's defaults at `quality` (AVIF at effort 2: the edge's CPU is the budget).
 * Written from pixels: no EXIF, ICC or other metadata.
 */
export async function encodePayload(
  image: Sharp,
  encoding: PayloadEncoding,
): Promise<{ bytes: Buffer; mime: FrameHeader['mime'] }> {
  const { codec, quality } = encoding;
  const encoded =
    codec === 'webp'
      ? image.webp({ quality })
      : codec === 'avif'
        ? image.avif({ quality, effort: 2 })
        : image.jpeg({ quality });
  return { bytes: await encoded.toBuffer(), mime: CODEC_MIME[codec] };
}

/**
 * What leaves the device for an offloaded frame. `crop`: the model's view re-encoded (smallest,
 * the cloud sees what the edge saw); `frame`: the whole frame scaled so its short side is
 * `shortSide`, re-encoded (the cloud crops itself); `original`: the captured bytes untouched.
 * Re-encoded payloads carry no metadata (sharp drops EXIF/ICC unless asked); `original` keeps
 * whatever the file had.
 */
export async function shapePayload(
  args: { captured: Buffer; view: ModelView; shortSide: number },
  payload: PayloadShape,
): Promise<ShapedPayload> {
  switch (payload.kind) {
    case 'crop': {
      const { size } = args.view;
      const pixels = sharp(args.view.pixels, { raw: { width: size, height: size, channels: 3 } });
      return { ...(await encodePayload(pixels, payload)), view: 'crop' };
    }
    case 'frame': {
      const { width, height } = args.view.source;
      const k = args.shortSide / Math.min(width, height);
      const resized = sharp(args.captured)
        .rotate()
        .resize(Math.round(width * k), Math.round(height * k), { fit: 'fill', kernel: 'cubic' });
      return { ...(await encodePayload(resized, payload)), view: 'full' };
    }
    case 'original': {
      const { format } = await sharp(args.captured).metadata();
      const mime = MIME[format ?? ''];
      if (mime) return { bytes: args.captured, view: 'full', mime };
      // A format the protocol does not carry: send the frame re-encoded instead.
      return shapePayload(args, { ...payload, kind: 'frame' });
    }
  }
}
