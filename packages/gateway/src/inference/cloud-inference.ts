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
import type { InferOutcome } from './backend.ts';
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
 * The cloud model behind the gateway: image bytes in, top-5 with labels out. Decoding runs on
 * sharp's thread pool, inference in the batcher's backend; the event loop only hands over.
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

  function answer(outcome: InferOutcome): CloudAnswer {
    switch (outcome.kind) {
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
