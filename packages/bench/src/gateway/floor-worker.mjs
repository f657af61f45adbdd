// One loop of bench:gateway's floor, in a worker thread (session.run blocks its thread, so each
// loop of the floor needs one, as each inference worker of the gateway has). Plain JavaScript so it
// starts without a TypeScript loader. For each batch of its frames: wait for the frames' arrival
// (paced runs), decode each JPEG with sharp at the model's size, write the float tensor, run.
// Messages: out { type: 'ready' } after a warm-up batch; in { type: 'go', t0 } (epoch ms) →
// out { type: 'done', frames, elapsedMs, latencies } (arrival to answer, per frame).
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

const { modelPath, inputName, threads, preprocess, payloads, frames, batch, intervalMs } = workerData;
const size = preprocess.centerCrop;
const plane = 3 * size * size;
const src = preprocess.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
const k = [0, 1, 2].map((c) => preprocess.scale / preprocess.std[c]);
const b = [0, 1, 2].map((c) => preprocess.mean[c] / preprocess.std[c]);
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});
const data = new Float32Array(batch * plane);
const tensor = new ort.Tensor('float32', data, [batch, 3, size, size]);
const now = () => performance.timeOrigin + performance.now();

async function fill(bytes, at) {
  const rgb = await sharp(bytes)
    .resize(size, size, { fit: 'fill', kernel: 'cubic' })
    .removeAlpha()
    .raw()
    .toBuffer();
  for (let c = 0; c < 3; c++) {
    const o = at * plane + c * size * size;
    for (let i = 0, j = src[c]; i < size * size; i++, j += 3) data[o + i] = rgb[j] * k[c] - b[c];
  }
}

async function runBatch(list) {
  await Promise.all(list.map((f, i) => fill(payloads[f.payload], i)));
  const feed =
    list.length === batch
      ? tensor
      : new ort.Tensor('float32', data.subarray(0, list.length * plane), [list.length, 3, size, size]);
  await session.run({ [inputName]: feed });
}

await runBatch(frames.slice(0, batch).map((f) => ({ ...f, at: 0 })));
parentPort.postMessage({ type: 'ready' });
parentPort.once('message', async ({ t0 }) => {
  const latencies = [];
  const started = now();
  for (let i = 0; i < frames.length; i += batch) {
    const list = frames.slice(i, i + batch);
    if (intervalMs > 0) {
      const due = t0 + list.at(-1).slot * intervalMs;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await runBatch(list);
    const end = now();
    for (const f of list) latencies.push(end - (intervalMs > 0 ? t0 + f.slot * intervalMs : started));
  }
  parentPort.postMessage({ type: 'done', frames: frames.length, elapsedMs: now() - started, latencies });
  await session.release();
});
