import * as ort from 'onnxruntime-node';
import { ModelErrorCode, ModelLoadError } from '../models/errors.ts';

/** An onnxruntime session that waits for its running calls before it releases. */
export interface ModelSession {
  run(
    feeds: ort.InferenceSession.FeedsType,
    outputs?: readonly string[],
  ): Promise<ort.InferenceSession.ReturnType>;
  readonly closed: boolean;
  close(): Promise<void>;
}

export interface OpenSessionOptions {
  /** Verified model file. */
  path: string;
  /** intra-op threads; 1 keeps several sessions in one process from fighting over cores. */
  threads: number;
  /** Tensor names the model must have, and who expects them, for the error. */
  expects: { inputs: readonly string[]; outputs: readonly string[] };
  expectedBy: string;
  /** onnxruntime log level (3 = errors only). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/**
 * Opens a CPU session for one model file; a file onnxruntime cannot load, or one without the
 * expected tensors, is a ModelLoadError naming the file.
 */
export async function openModelSession(options: OpenSessionOptions): Promise<ModelSession> {
  const { path, threads, expects, expectedBy } = options;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      ...(options.logSeverityLevel === undefined ? {} : { logSeverityLevel: options.logSeverityLevel }),
    });
  } catch (cause) {
    throw new ModelLoadError(ModelErrorCode.LOAD, path, `onnxruntime cannot load ${path}: ${String(cause)}`, {
      cause,
    });
  }
  if (
    expects.inputs.some((n) => !session.inputNames.includes(n)) ||
    expects.outputs.some((n) => !session.outputNames.includes(n))
  ) {
    await session.release();
    throw new ModelLoadError(
      ModelErrorCode.LOAD,
      path,
      `${path} has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; the ${expectedBy} expects ${expects.inputs.join(', ')} → ${expects.outputs.join(', ')}`,
    );
  }
  let closed = false;
  const running = new Set<Promise<unknown>>();
  return {
    get closed() {
      return closed;
    },
    run(feeds, outputs) {
      const run = outputs ? session.run(feeds, [...outputs]) : session.run(feeds);
      running.add(run);
      return run.finally(() => running.delete(run));
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled(running);
      await session.release();
    },
  };
}
