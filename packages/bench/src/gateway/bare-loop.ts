import { resolveModel } from '@squeezegate/shared';
import * as ort from 'onnxruntime-node';

/**
 * The cloud model alone: onnxruntime-node over ready tensors, `batch` at a time, with the
 * gateway's session settings. No sockets, no decoding, no scheduling: what batching buys the model.
 */
export async function bareLoop(options: {
  modelsDir: string;
  tensors: readonly Float32Array[];
  frames: number;
  batch: number;
  threads: number;
}): Promise<{ framesPerSec: number; cpuMsPerImage: number }> {
  const { spec, path } = await resolveModel('mobilenetv2-12-int8', options.modelsDir);
  const session = await ort.InferenceSession.create(path, {
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const size = spec.preprocess.centerCrop;
  const plane = 3 * size * size;
  const batches = Math.ceil(options.frames / options.batch);
  const inputs = Array.from({ length: Math.min(batches, 8) }, (_, b) => {
    const data = new Float32Array(options.batch * plane);
    for (let i = 0; i < options.batch; i++) {
      data.set(options.tensors[(b * options.batch + i) % options.tensors.length]!, i * plane);
    }
    return new ort.Tensor('float32', data, [options.batch, 3, size, size]);
  });
  try {
    await session.run({ [spec.input.name]: inputs[0]! }); // warm-up
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (let b = 0; b < batches; b++) await session.run({ [spec.input.name]: inputs[b % inputs.length]! });
    const used = process.cpuUsage(cpu);
    const images = batches * options.batch;
    return {
      framesPerSec: (images / (performance.now() - started)) * 1000,
      // Every thread of this process: onnxruntime's pool included, nothing else running meanwhile.
      cpuMsPerImage: (used.user + used.system) / 1000 / images,
    };
  } finally {
    await session.release();
  }
}
