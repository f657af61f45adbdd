import {
  type Classifier,
  type FrameView,
  ImageDecodeError,
  type ResultMessage,
  toModelView,
  topK,
  WireErrorCode,
} from '@squeezegate/shared';

export type CloudAnswer =
  | { ok: true; result: Omit<ResultMessage, 'type' | 'frameId'> }
  | { ok: false; code: WireErrorCode; message: string };

export interface CloudInference {
  readonly modelId: string;
  /** Decodes, preprocesses and classifies one image; expected failures come back as values. */
  infer(image: Buffer, view: FrameView): Promise<CloudAnswer>;
}

/** The cloud model behind the gateway: image bytes in, top-5 with labels out. */
export function createCloudInference(options: {
  classifier: Classifier;
  labels: readonly string[];
}): CloudInference {
  const { classifier, labels } = options;
  return {
    modelId: classifier.spec.id,
    async infer(image, view) {
      let modelView: Awaited<ReturnType<typeof toModelView>>;
      try {
        modelView = await toModelView(image, { preprocess: classifier.spec.preprocess, view });
      } catch (err) {
        if (err instanceof ImageDecodeError)
          return { ok: false, code: WireErrorCode.IMAGE_UNDECODABLE, message: err.message };
        throw err;
      }
      try {
        const [out] = await classifier.classify([modelView]);
        return {
          ok: true,
          result: {
            model: classifier.spec.id,
            top: topK(out!.probs, 5).map(({ index, p }) => ({
              index,
              label: labels[index] ?? `class ${index}`,
              p,
            })),
            inferMs: Math.round(out!.inferMs * 100) / 100,
          },
        };
      } catch (err) {
        return {
          ok: false,
          code: WireErrorCode.INFERENCE_FAILED,
          message: `inference failed: ${(err as Error).message}`,
        };
      }
    },
  };
}
