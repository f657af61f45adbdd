// The cloud model in a worker thread: onnxruntime-node off the gateway's event loop.
// Plain JavaScript so it starts without a TypeScript loader; its protocol is typed in
// local-backend.ts. Messages: in { id, data: Float32Array, count } → out { id, logits } or
// { id, error }; in { type: 'close' } → releases the session.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { modelPath, inputName, outputName, threads, size } = workerData;
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  // Idle intra-op threads would otherwise spin and steal the cores that decode the next frames.
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});
parentPort.postMessage({ type: 'ready' });

parentPort.on('message', async (msg) => {
  if (msg.type === 'close') {
    await session.release();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  try {
    const input = new ort.Tensor('float32', msg.data, [msg.count, 3, size, size]);
    const out = await session.run({ [inputName]: input });
    const logits = Float32Array.from(out[outputName].data);
    parentPort.postMessage({ type: 'result', id: msg.id, logits }, [logits.buffer]);
  } catch (err) {
    parentPort.postMessage({
      type: 'error',
      id: msg.id,
      message: err instanceof Error ? err.message : String(err),
    });
  }
});
