import {
  type FrameView,
  ImageDecodeError,
  type ModelSpec,
  type ResultMessage,
  softmax,
  toModelView,
  topK,
  toTensorData,
  WireErrorCode,
} from '@squeezegate/shared';
import sharp from 'sharp';
import type { ImageOutcome } from './backend.ts';
import type { Batcher } from './batcher.ts';

export type CloudAnswer =
  | { ok: true; result: Omit<ResultMessage, 'type' | 'frameId'> }
  | { ok: false; code: WireErrorCode; message: string };

export interface CloudInference {
  readonly modelId: string;
  /** Decodes, preprocesses and classifies one image through the batcher; failures are values. */
  infer(image: Buffer, view: FrameView): Promise<CloudAnswer>;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * The cloud model behind the gateway: image bytes in, top-5 with labels out. The bytes are
 * screened here (a header read on sharp's thread pool); decoding, the tensor build and inference
 * run in the backend's workers when it decodes (the local one), else decoding runs on sharp's
 * pool and the tensor is built here. Either way the answers are the same.
 */
export function createCloudInference(options: {
  spec: ModelSpec;
  batcher: Batcher;
  labels: readonly string[];
}): CloudInference {
  const { spec, batcher, labels } = options;
  return {
    modelId: spec.id,
    async infer(image, view) {
      // Shed before decoding: under overload the CPU goes to frames that will be answered.
      if (!batcher.hasRoom()) return answer(batcher.shed());
      const refused = await screen(image);
      if (refused) return { ok: false, code: WireErrorCode.IMAGE_UNDECODABLE, message: refused };
      // Decoded with its batch in the inference worker: the event loop only moves the bytes.
      if (batcher.decodesImages) return answer(await batcher.submitImage({ bytes: image, view }));
      let tensor: Float32Array;
      try {
        const modelView = await toModelView(image, { preprocess: spec.preprocess, view });
        tensor = toTensorData(modelView.pixels, spec.preprocess);
      } catch (err) {
        if (err instanceof ImageDecodeError)
          return { ok: false, code: WireErrorCode.IMAGE_UNDECODABLE, message: err.message };
        throw err;
      }
      return answer(await batcher.submit(tensor));
    },
  };

  function answer(outcome: ImageOutcome): CloudAnswer {
    switch (outcome.kind) {
      case 'undecodable':
        return { ok: false, code: WireErrorCode.IMAGE_UNDECODABLE, message: outcome.message };
      case 'busy':
        return {
          ok: false,
          code: WireErrorCode.BUSY,
          message: `inference queue full (${outcome.queued} waiting)`,
        };
      case 'failed':
        return {
          ok: false,
          code: WireErrorCode.INFERENCE_FAILED,
          message: `inference failed: ${outcome.message}`,
        };
      case 'ok':
        return {
          ok: true,
          result: {
            model: spec.id,
            top: topK(softmax(outcome.logits), 5).map(({ index, p }) => ({
              index,
              label: labels[index] ?? `class ${index}`,
              p,
            })),
            inferMs: round(outcome.inferMs),
            batchSize: outcome.batchSize,
            queueMs: round(outcome.queueMs),
          },
        };
    }
  }
}

/** Camera frames are at most this big; a larger or interlaced one is a decoding bomb, not a frame. */
const MAX_PIXELS = 4096 * 4096;
const MAX_INTERLACED_PIXELS = 2048 * 2048;

/**
 * Screens bytes from the network before a full decode: only JPEG, PNG and WebP (what the protocol
 * carries; libvips would also run SVG filters or TIFF), within a size whose decode stays cheap.
 * Found by the fuzz test: a 2 kB SVG of nested <use> held every decoder thread for seconds, and a
 * 180 kB interlaced 16-bit PNG decoded to 184 MB.
 */
async function screen(image: Buffer): Promise<string | null> {
  const jpeg = image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff;
  const png = image.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const webp =
    image.subarray(0, 4).toString('latin1') === 'RIFF' && image.subarray(8, 12).toString('latin1') === 'WEBP';
  if (!jpeg && !png && !webp) return 'cannot decode image: not a JPEG, PNG or WebP';
  try {
    const meta = await sharp(image).metadata();
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > MAX_PIXELS || (meta.isProgressive && pixels > MAX_INTERLACED_PIXELS)) {
      return `cannot decode image: ${meta.width}x${meta.height}${meta.isProgressive ? ' interlaced' : ''} is larger than a camera frame`;
    }
    return null;
  } catch (err) {
    return `cannot decode image: ${(err as Error).message}`;
  }
}
