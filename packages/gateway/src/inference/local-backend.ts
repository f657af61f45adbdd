import { Worker } from 'node:worker_threads';
import { ModelErrorCode, ModelLoadError, type ModelSpec } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { CloudBackend } from './backend.ts';

type FromWorker =
  | { type: 'ready' }
  | { type: 'closed' }
  | { type: 'result'; id: number; logits: Float32Array }
  | { type: 'error'; id: number; message: string };

interface Slot {
  worker: Worker;
  released: Promise<void>;
  busy: boolean;
  pending: Map<number, { resolve: (l: Float32Array) => void; reject: (e: Error) => void }>;
}

export interface LocalBackendOptions {
  spec: ModelSpec;
  /** Verified model file. */
  path: string;
  /** Worker threads, each with its own onnxruntime session. */
  workers: number;
  /** onnxruntime intra-op threads per worker. */
  threads: number;
  logger: Logger;
}

const WORKER_URL = new URL('./ort-worker.mjs', import.meta.url);

/** onnxruntime-node in worker threads: the event loop only moves tensors. */
export async function createLocalBackend(options: LocalBackendOptions): Promise<CloudBackend> {
  const { spec, path, workers, threads } = options;
  const log = options.logger.child({ component: 'local-backend' });
  const size = spec.preprocess.centerCrop;
  const classes = Number(spec.output.shape[1]);
  let nextId = 0;
  let closing = false;

  const spawn = () =>
    new Promise<Slot>((resolve, reject) => {
      const worker = new Worker(WORKER_URL, {
        workerData: {
          modelPath: path,
          inputName: spec.input.name,
          outputName: spec.output.name,
          threads,
          size,
        },
      });
      let onClosed = () => {};
      const released = new Promise<void>((r) => {
        onClosed = r;
      });
      const slot: Slot = { worker, released, busy: false, pending: new Map() };
      worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            resolve(slot);
            return;
          case 'closed':
            onClosed();
            return;
          case 'result':
            slot.pending.get(msg.id)?.resolve(msg.logits);
            slot.pending.delete(msg.id);
            return;
          case 'error':
            slot.pending.get(msg.id)?.reject(new Error(msg.message));
            slot.pending.delete(msg.id);
            return;
        }
      });
      worker.on('error', (err) => {
        log.error({ err }, 'inference worker failed');
        reject(
          new ModelLoadError(ModelErrorCode.LOAD, path, `inference worker failed: ${err.message}`, {
            cause: err,
          }),
        );
      });
      worker.on('exit', (code) => {
        for (const p of slot.pending.values()) p.reject(new Error(`inference worker exited with ${code}`));
        slot.pending.clear();
        const i = slots.indexOf(slot);
        if (closing || i < 0) return;
        // A worker that dies is replaced, so one bad batch does not take the gateway's cloud down.
        log.warn({ code }, 'inference worker exited, starting another');
        spawn().then(
          (fresh) => {
            slots[i] = fresh;
          },
          (err: unknown) => log.error({ err }, 'could not restart inference worker'),
        );
      });
    });

  const slots: Slot[] = [];
  for (let i = 0; i < workers; i++) slots.push(await spawn());
  log.info({ workers, threads, model: spec.id }, 'inference workers ready');

  return {
    spec,
    concurrency: workers,
    async run(inputs) {
      if (closing) throw new Error('backend closed');
      const slot = slots.find((s) => !s.busy) ?? slots[nextId % slots.length]!;
      const plane = 3 * size * size;
      const data = new Float32Array(inputs.length * plane);
      inputs.forEach((x, i) => {
        data.set(x, i * plane);
      });
      const id = nextId++;
      slot.busy = true;
      try {
        const logits = await new Promise<Float32Array>((resolve, reject) => {
          slot.pending.set(id, { resolve, reject });
          slot.worker.postMessage({ type: 'run', id, data, count: inputs.length }, [data.buffer]);
        });
        return inputs.map((_, i) => logits.slice(i * classes, (i + 1) * classes));
      } finally {
        slot.busy = false;
      }
    },
    async close() {
      if (closing) return;
      closing = true;
      await Promise.all(
        slots.map(async (s) => {
          // Let the worker release its session, but never wait on a stuck one for long.
          s.worker.postMessage({ type: 'close' });
          await Promise.race([s.released, new Promise((r) => setTimeout(r, 2000).unref())]);
          await s.worker.terminate();
        }),
      );
    },
  };
}
