import * as ort from 'onnxruntime-node';
import { softmax } from '../confidence/measures.ts';
import { type ModelView, toTensorData } from '../image/preprocess.ts';
import type { ModelSpec } from '../models/catalog.ts';
import { openModelSession } from './session.ts';

export interface Classification {
  /** Softmax probabilities over the model's classes. */
  probs: Float32Array;
  /** Wall time of the session run for the whole batch, ms. */
  inferMs: number;
  /** The extra output named by `features` (e.g. pooled activations), flattened per view. */
  features?: Float32Array;
}

/** A classifier the agent and the gateway depend on; onnxruntime is one implementation. */
export interface Classifier {
  readonly spec: ModelSpec;
  /** Classifies a batch of model views (each `centerCrop`² RGB) in one run. */
  classify(views: readonly Pick<ModelView, 'pixels' | 'size'>[]): Promise<Classification[]>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface OnnxClassifierOptions {
  spec: ModelSpec;
  /** Verified model file (see resolveModel). */
  path: string;
  /** intra-op threads; 1 keeps several sessions in one process from fighting over cores. */
  threads?: number;
  /**
   * A second graph output to return with each classification (a model file that has one, e.g.
   * the edge model with its pooled activations exposed for a deferral rule).
   */
  features?: { output: string };
}

/** Opens an onnxruntime-node session for a classification model. */
export async function createOnnxClassifier(options: OnnxClassifierOptions): Promise<Classifier> {
  const { spec, path, threads = 1, features } = options;
  const session = await openModelSession({
    path,
    threads,
    expects: {
      inputs: [spec.input.name],
      outputs: features ? [spec.output.name, features.output] : [spec.output.name],
    },
    expectedBy: 'manifest',
  });
  const size = spec.preprocess.centerCrop;
  const plane = 3 * size * size;
  const close = () => session.close();
  return {
    spec,
    async classify(views) {
      if (session.closed) throw new Error(`classifier ${spec.id} is closed`);
      if (views.length === 0) return [];
      const data = new Float32Array(views.length * plane);
      views.forEach((v, i) => {
        if (v.size !== size) throw new RangeError(`${spec.id} wants ${size}px views, got ${v.size}px`);
        toTensorData(v.pixels, spec.preprocess, data.subarray(i * plane, (i + 1) * plane));
      });
      const input = new ort.Tensor('float32', data, [views.length, 3, size, size]);
      const start = performance.now();
      const out = await session.run(
        { [spec.input.name]: input },
        features ? [spec.output.name, features.output] : [spec.output.name],
      );
      const inferMs = performance.now() - start;
      const logits = out[spec.output.name];
      if (!logits) throw new Error(`${spec.id}: output ${spec.output.name} missing`);
      const values = logits.data as Float32Array;
      const classes = values.length / views.length;
      const extra = features ? (out[features.output]?.data as Float32Array | undefined) : undefined;
      if (features && !extra) throw new Error(`${spec.id}: output ${features.output} missing`);
      const width = extra ? extra.length / views.length : 0;
      return views.map((_, i) => ({
        probs: softmax(values.subarray(i * classes, (i + 1) * classes)),
        inferMs,
        ...(extra ? { features: extra.slice(i * width, (i + 1) * width) } : {}),
      }));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
