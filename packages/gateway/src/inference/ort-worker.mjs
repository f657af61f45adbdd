// The cloud model in a worker thread: decoding, the tensor build and onnxruntime-node, all off the
// gateway's event loop. Plain JavaScript so it starts without a TypeScript loader; its protocol is
// typed in local-backend.ts. Messages: in { type: 'run', id, items } where each item is
// { tensor: Float32Array } or { bytes: Uint8Array, view } → out { type: 'result', id, logits,
// undecodable } (logits of the decoded items, in order; per item, null or why its image could not
// be decoded) or { type: 'error', id, message }; in { type: 'close' } → releases the session.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { decodeToTensor, UndecodableImage } from './decode-image.mjs';

const { modelPath, inputName, outputName, threads, size, preprocess } = workerData;
const plane = 3 * size * size;
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  // Idle intra-op threads would otherwise spin and steal the cores that decode the next frames.
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});
parentPort.postMessage({ type: 'ready' });

// session.run blocks this thread, so runs are taken in turn; a batch that arrives meanwhile has
// its images decoding on sharp's threads (started before the run blocks): decode overlaps inference.
let turn = Promise.resolve();

/** One item into `out`: a tensor is copied, an image decoded (shared's recipe, decode-image.mjs). */
async function fill(item, out) {
  if (item.tensor) {
    out.set(item.tensor);
    return null;
  }
  try {
    const bytes = Buffer.from(item.bytes.buffer, item.bytes.byteOffset, item.bytes.byteLength);
    await decodeToTensor(bytes, { preprocess, view: item.view }, out);
    return null;
  } catch (err) {
    if (err instanceof UndecodableImage) return err.message;
    throw err;
  }
}

async function run(msg) {
  const data = new Float32Array(msg.items.length * plane);
  const undecodable = await Promise.all(
    msg.items.map((item, i) => fill(item, data.subarray(i * plane, (i + 1) * plane))),
  );
  const kept = undecodable.flatMap((u, i) => (u === null ? [i] : []));
  if (kept.length === 0) return { logits: new Float32Array(0), undecodable };
  // Undecodable images leave the batch: the model runs on the others only.
  let batch = data;
  if (kept.length < msg.items.length) {
    batch = new Float32Array(kept.length * plane);
    for (const [k, i] of kept.entries()) batch.set(data.subarray(i * plane, (i + 1) * plane), k * plane);
  }
  const ran = turn.then(() =>
    session.run({ [inputName]: new ort.Tensor('float32', batch, [kept.length, 3, size, size]) }),
  );
  turn = ran.then(
    () => {},
    () => {},
  );
  const out = await ran;
  return { logits: Float32Array.from(out[outputName].data), undecodable };
}

parentPort.on('message', async (msg) => {
  if (msg.type === 'close') {
    await turn;
    await session.release();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  try {
    const { logits, undecodable } = await run(msg);
    parentPort.postMessage({ type: 'result', id: msg.id, logits, undecodable }, [logits.buffer]);
  } catch (err) {
    parentPort.postMessage({
      type: 'error',
      id: msg.id,
      message: err instanceof Error ? err.message : String(err),
    });
  }
});
