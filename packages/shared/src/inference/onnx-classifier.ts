import * as ort from 'onnxruntime-node';
import { softmax } from '../confidence/measures.ts';
import { type ModelView, toTensorData } from '../image/preprocess.ts';
import type { ModelSpec } from '../models/catalog.ts';
import { ModelErrorCode, ModelLoadError } from '../models/errors.ts';

export interface Classification {
  /** Softmax probabilities over the model's classes. */
  probs: Float32Array;
  /** Wall time of the session run for the whole batch, ms. */
  inferMs: number;
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
}

/** Opens an onnxruntime-node session for a classification model. */
export async function createOnnxClassifier(options: OnnxClassifierOptions): Promise<Classifier> {
  const { spec, path, threads = 1 } = options;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (cause) {
    throw new ModelLoadError(ModelErrorCode.LOAD, path, `onnxruntime cannot load ${path}: ${String(cause)}`, {
      cause,
    });
  }
  if (!session.inputNames.includes(spec.input.name) || !session.outputNames.includes(spec.output.name)) {
    await session.release();
    throw new ModelLoadError(
      ModelErrorCode.LOAD,
      path,
      `${path} has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; the manifest expects ${spec.input.name} → ${spec.output.name}`,
    );
  }
  const size = spec.preprocess.centerCrop;
  const plane = 3 * size * size;
  let closed = false;
  const running = new Set<Promise<unknown>>();

  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.allSettled(running);
    await session.release();
  };
  return {
    spec,
    async classify(views) {
      if (closed) throw new Error(`classifier ${spec.id} is closed`);
      if (views.length === 0) return [];
      const data = new Float32Array(views.length * plane);
      views.forEach((v, i) => {
        if (v.size !== size) throw new RangeError(`${spec.id} wants ${size}px views, got ${v.size}px`);
        toTensorData(v.pixels, spec.preprocess, data.subarray(i * plane, (i + 1) * plane));
      });
      const input = new ort.Tensor('float32', data, [views.length, 3, size, size]);
      const start = performance.now();
      const run = session.run({ [spec.input.name]: input });
      running.add(run);
      const out = await run.finally(() => running.delete(run));
      const inferMs = performance.now() - start;
      const logits = out[spec.output.name];
      if (!logits) throw new Error(`${spec.id}: output ${spec.output.name} missing`);
      const values = logits.data as Float32Array;
      const classes = values.length / views.length;
      return views.map((_, i) => ({
        probs: softmax(values.subarray(i * classes, (i + 1) * classes)),
        inferMs,
      }));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
