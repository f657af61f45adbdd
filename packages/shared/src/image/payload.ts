import sharp from 'sharp';
import type { PayloadConfig } from '../config/schemas.ts';
import type { FrameHeader } from '../protocol/messages.ts';
import { encodeJpeg, type ModelView } from './preprocess.ts';

export interface ShapedPayload {
  bytes: Buffer;
  view: FrameHeader['view'];
  mime: FrameHeader['mime'];
}

const MIME: Record<string, FrameHeader['mime']> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};

/**
 * What leaves the device for an offloaded frame. `crop`: the model's view re-encoded (smallest,
 * the cloud sees what the edge saw); `frame`: the whole frame scaled so its short side is
 * `shortSide`, re-encoded (the cloud crops itself); `original`: the captured bytes untouched.
 * Re-encoded payloads carry no metadata (sharp drops EXIF/ICC unless asked); `original` keeps
 * whatever the file had.
 */
export async function shapePayload(
  args: { captured: Buffer; view: ModelView; shortSide: number },
  payload: PayloadConfig,
): Promise<ShapedPayload> {
  switch (payload.kind) {
    case 'crop':
      return { bytes: await encodeJpeg(args.view, payload.quality), view: 'crop', mime: 'image/jpeg' };
    case 'frame': {
      const { width, height } = args.view.source;
      const k = args.shortSide / Math.min(width, height);
      const bytes = await sharp(args.captured)
        .rotate()
        .resize(Math.round(width * k), Math.round(height * k), { fit: 'fill', kernel: 'cubic' })
        .jpeg({ quality: payload.quality })
        .toBuffer();
      return { bytes, view: 'full', mime: 'image/jpeg' };
    }
    case 'original': {
      const { format } = await sharp(args.captured).metadata();
      const mime = MIME[format ?? ''];
      if (mime) return { bytes: args.captured, view: 'full', mime };
      // A format the protocol does not carry: send the frame re-encoded instead.
      return shapePayload(args, { kind: 'frame', quality: payload.quality });
    }
  }
}
